"""Properties of the card: transmit never raises, and a model of the PIN rules holds in every state.

The state machine drives SELECT / VERIFY / CHANGE / power / READ / SIGN / issuer resets in any order
and checks, after every step, the invariants of pin-rules.md §2 and §6:
a counter never rises except by a correct entry or an issuer operation; a lock is absorbing;
protected data and keys only after the right PIN since the last select or power-on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from card_emulator import Card
from card_emulator.rules import (
    APP_AIDS,
    FILE_RULES,
    PIN_SPECS,
    AppName,
    FileKind,
    PinName,
)
from tests.helpers import select_app, select_ef, send
from tests.strategies import command_apdus, raw_commands

_CARD = Card.create(None, seed=7)
INITIAL = dict(_CARD.created_pins or {})


@given(st.binary(max_size=600))
def test_transmit_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    response = _CARD.transmit(raw)
    assert len(response) >= 2
    assert response[-2:] != b"\x6f\x00", "6F00 means a bug was caught"


@given(st.lists(st.one_of(raw_commands(), st.binary(max_size=40)), max_size=12))
def test_transmit_never_raises_on_sequences_of_apdus(apdus: list[bytes]) -> None:
    card = Card.create(None, seed=7)
    for prefix in ("00A4040C0AD392F000260100000001", "00A4040C0AD3921000310001010408"):
        card.transmit(bytes.fromhex(prefix))
        for raw in apdus:
            response = card.transmit(raw)
            assert len(response) >= 2 and response[-2:] != b"\x6f\x00"


@given(command_apdus())
def test_well_formed_apdus_in_every_application(command: object) -> None:
    for aid in APP_AIDS.values():
        _CARD.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid)
        response = _CARD.transmit(command.to_bytes())  # type: ignore[attr-defined]
        assert response[-2:] != b"\x6f\x00"


FIDS = {app: [r.fid for r in FILE_RULES if r.app is app] for app in AppName}
NEW_VALUES = {
    PinName.SIGNING: ["NEWPASS1", "Z9Z9Z9", "bad", "SHORT"],
    PinName.USER_AUTH: ["4444", "5555", "12345", "ab12"],
}


@dataclass
class PinModel:
    value: str
    remaining: int
    maximum: int


@dataclass
class Model:
    pins: dict[PinName, PinModel] = field(default_factory=dict)
    app: AppName | None = None
    ef: int | None = None
    verified: set[PinName] = field(default_factory=set)

    def power(self) -> None:
        self.app, self.ef, self.verified = None, None, set()


class CardMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.card = Card.create(None, seed=7)
        self.model = Model(
            {
                pin: PinModel(INITIAL[pin], spec.max_tries, spec.max_tries)
                for pin, spec in PIN_SPECS.items()
            }
        )

    # -- selection and power ------------------------------------------------------------------

    @rule(app=st.sampled_from(list(AppName)))
    def select_application(self, app: AppName) -> None:
        assert select_app(self.card, app) == 0x9000
        self.model.app, self.model.ef, self.model.verified = app, None, set()

    @rule()
    def select_unknown_application(self) -> None:
        assert send(self.card, "00A4040C05D392F00099")[1] == 0x6A82  # nothing changes

    @rule(data=st.data())
    def select_file(self, data: st.DataObject) -> None:
        app = self.model.app
        fid = data.draw(st.sampled_from([*FIDS[app], 0x0099]) if app else st.just(0x0001))
        sw = select_ef(self.card, fid)
        if app is None or fid == 0x0099:
            assert sw == 0x6A82
        else:
            assert sw == 0x9000
            self.model.ef = fid

    @rule(event=st.sampled_from(["power_off", "power_on", "reset"]))
    def power(self, event: str) -> None:
        getattr(self.card, event)()
        self.model.power()

    # -- PINs ---------------------------------------------------------------------------------

    @rule(pin=st.sampled_from(list(PinName)), kind=st.sampled_from(["right", "wrong", "junk"]))
    def verify(self, pin: PinName, kind: str) -> None:
        spec, state = PIN_SPECS[pin], self.model.pins[pin]
        self.select_application(spec.app)
        assert select_ef(self.card, spec.fid) == 0x9000
        self.model.ef = spec.fid
        value = {
            "right": state.value.encode(),
            "wrong": b"0" * len(state.value)
            if state.value != "0" * len(state.value)
            else b"1" * len(state.value),
            "junk": b"\xff\x00",
        }[kind]
        _, sw = send(self.card, bytes([0x00, 0x20, 0x00, 0x80, len(value)]) + value)
        note(f"verify {pin.value} {kind} -> {sw:04X}")
        if state.remaining == 0:
            assert sw == 0x6984  # a lock is absorbing, the right value included
        elif kind == "right":
            assert sw == 0x9000
            state.remaining = state.maximum
            self.model.verified.add(pin)
        else:
            state.remaining -= 1
            assert sw == 0x63C0 | state.remaining
            self.model.verified.discard(pin)

    @precondition(lambda self: self.model.app is not None)
    @rule()
    def query_current(self) -> None:
        _, sw = send(self.card, "00200080")
        pin = self._current_pin()
        if self.model.ef is None:
            assert sw == 0x6986
        elif self._current_kind() is FileKind.BLOCKED:
            assert sw == 0x63C0  # blocked at issuance on every card (text AP 0012, §5.1)
        elif pin is None:
            assert sw == 0x6981
        else:
            assert sw == 0x63C0 | self.model.pins[pin].remaining  # spends nothing

    @rule(pin=st.sampled_from([PinName.SIGNING, PinName.USER_AUTH]), data=st.data())
    def change_current(self, pin: PinName, data: st.DataObject) -> None:
        """CHANGE on the PIN's EF without a fresh select: works only if verified in this session."""
        spec, state = PIN_SPECS[pin], self.model.pins[pin]
        if self.model.app is not spec.app:
            return
        assert select_ef(self.card, spec.fid) == 0x9000
        self.model.ef = spec.fid
        new = data.draw(st.sampled_from(NEW_VALUES[pin]))
        _, sw = send(self.card, bytes([0x00, 0x24, 0x01, 0x80, len(new)]) + new.encode())
        if state.remaining == 0:
            assert sw == 0x6984
        elif pin not in self.model.verified:
            assert sw == 0x6982
        elif not spec.format.accepts(new):
            assert sw == 0x6A80
        else:
            assert sw == 0x9000
            state.value = new

    @rule(pin=st.sampled_from([PinName.SIGNING, PinName.USER_AUTH, PinName.TEXT_INPUT_HELPER]))
    def issuer_reset(self, pin: PinName) -> None:
        new = "RESET9" if pin is PinName.SIGNING else "7777"
        self.card.issuer.reset_pin(pin, new)
        state = self.model.pins[pin]
        state.value, state.remaining = new, state.maximum
        self.model.power()  # the card left the issuer's terminal

    # -- protected data and keys --------------------------------------------------------------

    @precondition(lambda self: self.model.ef is not None)
    @rule()
    def read_current(self) -> None:
        data, sw = send(self.card, "00B0000000")
        assert self.model.app is not None and self.model.ef is not None
        rule_ = next(r for r in FILE_RULES if (r.app, r.fid) == (self.model.app, self.model.ef))
        if rule_.kind in (FileKind.PIN, FileKind.PRIVATE_KEY, FileKind.RECORD, FileKind.BLOCKED):
            assert sw == 0x6981
        elif rule_.kind is FileKind.SECRET:
            assert sw == 0x6982
        elif rule_.opened_by and not (rule_.opened_by & self.model.verified):
            assert (data, sw) == (b"", 0x6982)
        else:
            assert sw == 0x9000 and data

    @rule(key=st.sampled_from([(0x0017, PinName.USER_AUTH), (0x001A, PinName.SIGNING)]))
    def sign(self, key: tuple[int, PinName]) -> None:
        if self.model.app is not AppName.JPKI:
            return
        fid, pin = key
        assert select_ef(self.card, fid) == 0x9000
        self.model.ef = fid
        block = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(32)
        data, sw = send(self.card, bytes([0x80, 0x2A, 0x00, 0x80, len(block)]) + block + b"\x00")
        if pin in self.model.verified:
            assert sw == 0x9000 and len(data) == 256
        else:
            assert (data, sw) == (b"", 0x6982)

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def counters_match_the_model(self) -> None:
        for pin, state in self.model.pins.items():
            assert self.card.issuer.pin_status(pin).remaining == state.remaining, pin

    def _current_kind(self) -> FileKind:
        return next(r.kind for r in FILE_RULES if (r.app, r.fid) == (self.model.app, self.model.ef))

    def _current_pin(self) -> PinName | None:
        for pin, spec in PIN_SPECS.items():
            if (spec.app, spec.fid) == (self.model.app, self.model.ef):
                return pin
        return None


CardMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
test_card_state_machine = CardMachine.TestCase
