"""Running a scenario: its events replayed on a real card through APDUs, every counter after each.

``scenario`` parses the files; this module replays them (``run_scenario``) and checks each event's
expectations. Resets and kiosk reservations go through ``teaching.reset``; every counter is read
with ``card.issuer.pin_status`` after every event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from card_emulator.pin import PinStatus
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.teaching import reset as resets
from card_emulator.teaching.explain import ExchangeLike
from card_emulator.teaching.i18n import Text, count
from card_emulator.teaching.scenario import Action, Event, Scenario, ScenarioError
from card_emulator.teaching.status_words import explain_status_word

if TYPE_CHECKING:
    from card_emulator.card import Card


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """What one scenario event did: the card's last status word, whether a reset was carried out,
    the outcome in both languages, refusals with their sources, every user PIN's counter
    afterwards, and the expectations it missed."""

    event: Event
    sw: int | None  # the card's last answer in this event, if it sent APDUs
    done: bool | None  # reset/reserve: carried out or refused
    outcome: Text
    refusals: tuple[resets.Refusal, ...] = ()
    counters: tuple[PinStatus, ...] = ()  # every user PIN on the card, read after the event
    visits: int | None = None
    failures: tuple[str, ...] = ()
    exchanges: tuple[ExchangeLike, ...] = field(default=(), repr=False, compare=False)

    def counter(self, pin: PinName) -> PinStatus | None:
        """The counter of ``pin`` read after this event; None when the card has no such PIN."""
        return next((c for c in self.counters if c.pin == pin), None)

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: no PIN value and no raw command is included."""
        e = self.event
        return {
            "index": e.index,
            "at": e.at.isoformat(),
            "place": e.place,
            "action": e.action.value,
            "pin": e.pin.value if e.pin else None,
            "sw": f"{self.sw:04X}" if self.sw is not None else None,
            "done": self.done,
            "outcome": self.outcome.as_dict(),
            "refusals": [
                {"code": r.code.value, "source": r.source, **r.text.as_dict()}
                for r in self.refusals
            ],
            "visits": self.visits,
            "counters": {
                c.pin.value: {"remaining": c.remaining, "max": c.max_tries, "locked": c.locked}
                for c in self.counters
            },
            "failures": list(self.failures),
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    """A scenario run on a real card (``run_scenario``): one entry per event, and the final
    expectations that failed."""

    scenario: Scenario
    entries: tuple[TimelineEntry, ...]
    final_failures: tuple[str, ...]

    @property
    def failures(self) -> tuple[str, ...]:
        out: list[str] = []
        for entry in self.entries:
            out += [f"event {entry.event.index}: {f}" for f in entry.failures]
        return (*out, *self.final_failures)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """The timeline for ``simulate --json``: scenario, title, source, entries, whether every
        expectation was met, and which were not."""
        return {
            "scenario": self.scenario.name,
            "title": self.scenario.title.as_dict(),
            "source": self.scenario.source,
            "entries": [e.to_dict() for e in self.entries],
            "expectations_met": self.ok,
            "failures": list(self.failures),
        }


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

# TEST values used when a scenario says "new": distinct, valid, synthetic.
_NEW_FOUR = ("4826", "7391", "5064", "2718", "9153")
_NEW_SIGNING = ("NEWPASS1", "TEST2025", "RESET7X", "KIOSK9Y", "WINDOW3Z")


def _is_long(pin: PinName) -> bool:
    return PIN_SPECS[pin].format.max_length > 4  # the signing password, not 4 digits


def _new_values(pin: PinName) -> tuple[str, ...]:
    return _NEW_SIGNING if _is_long(pin) else _NEW_FOUR


class _Values:
    """The PIN values the holder knows, as the scenario goes; never printed."""

    def __init__(self, known: Mapping[PinName, str]) -> None:
        self.known = dict(known)
        self._fresh = 0

    def correct(self, pin: PinName, where: str) -> str:
        if pin not in self.known:
            raise ScenarioError(f"{where}: the {PIN_SPECS[pin].name_en} of this card is unknown")
        return self.known[pin]

    def wrong(self, pin: PinName, where: str) -> str:
        right = self.correct(pin, where)
        wrong = ("WRONG123", "MISTAKE9") if _is_long(pin) else ("0000", "9999")
        return next(v for v in (*wrong, *_new_values(pin)) if v != right)

    def new(self, pin: PinName) -> str:
        pool = _new_values(pin)
        current = self.known.get(pin)
        while True:
            value = pool[self._fresh % len(pool)]
            self._fresh += 1
            if value != current:
                return value

    def resolve(self, pin: PinName, spec: str | None, where: str) -> str | None:
        if spec is None or spec == "unknown":
            return None
        if spec == "correct":
            return self.correct(pin, where)
        if spec == "wrong":
            return self.wrong(pin, where)
        if spec == "new":
            return self.new(pin)
        return spec


def _counters(card: Card, named: frozenset[PinName] = frozenset()) -> tuple[PinStatus, ...]:
    """The user PINs on the card, then the other references the scenario names (a card-surface
    verification code, the common-AP PIN, ...): their counters are read too, so an expectation on
    them is checked rather than answered "this card has no ..."."""
    present = set(card.issuer.pins())
    wanted = [*USER_PINS, *(pin for pin in PinName if pin in named and pin not in USER_PINS)]
    return tuple(card.issuer.pin_status(pin) for pin in wanted if pin in present)


# What a PIN event's answer means, by status word (the card's answer decides; this only words it).
_SW_OUTCOMES: dict[int, Text] = {
    0x6984: Text(
        "refused: locked, even the correct value (6984)", "拒否: ロック中、正しい値でも不可(6984)"
    ),
    0x6982: Text(
        "refused: VERIFY the current PIN first (6982)", "拒否: 先に現在の暗証番号の照合が必要(6982)"
    ),
    0x6A80: Text(
        "refused: the new value breaks the format (6A80); the old PIN stays",
        "拒否: 新しい値が形式に合わない(6A80)、元の暗証番号のまま",
    ),
}
_CHANGE_LOCKED = Text(
    "change refused: the PIN is locked, even the correct current value (6984)",
    "変更不可: ロック中のため、正しい現在の暗証番号でも拒否(6984)",
)
_CHANGED = Text("changed: new value, full tries", "変更完了: 新しい値、回数は最大")
_ACCEPTED = Text("accepted: counter back to its maximum", "一致: 残り回数は最大に戻る")


def _tries(n: int) -> Text:
    return Text(count("en", n, "try", "tries", "回"), count("ja", n, "", "", "回"))


def _pin_outcome(action: Action, answer: resets.PinAnswer) -> Text:
    sw, left = answer.sw, answer.tries_left
    if answer.step in ("select_app", "select_ef"):
        return Text(
            f"not on this card: {explain_status_word(sw, 'en')}",
            f"このカードにはありません: {explain_status_word(sw, 'ja')}",
        )
    if sw == 0x9000:
        return _CHANGED if answer.step == "change" else _ACCEPTED
    if action == Action.QUERY and left is not None:
        if left == 0:
            return Text(
                "asked: locked (63C0), nothing spent", "問い合わせ: ロック中(63C0)、消費なし"
            )
        return Text(
            f"asked: {_tries(left).en} left, nothing spent", f"問い合わせ: 残り{left}回、消費なし"
        )
    if left is not None:
        prefix = Text("", "")
        if answer.step == "verify" and action == Action.CHANGE:
            prefix = Text("change refused, current PIN ", "変更不可、現在の暗証番号が")
        body = (
            Text("wrong: the PIN is now locked (63C0)", "不一致: これでロック(63C0)")
            if left == 0
            else Text(f"wrong: {_tries(left).en} left", f"不一致: 残り{left}回")
        )
        return Text(prefix.en + body.en, prefix.ja + body.ja)
    if sw == 0x6984 and action == Action.CHANGE:
        return _CHANGE_LOCKED
    return _SW_OUTCOMES.get(sw) or Text(
        explain_status_word(sw, "en"), explain_status_word(sw, "ja")
    )


def _reset_outcome(action: Action, outcome: resets.ResetOutcome) -> Text:
    if outcome.done:
        if action == Action.RESERVE:
            return Text("reservation made in the app (valid 24 h)", "アプリで予約完了(24時間有効)")
        return Text(
            "reset: new value, full tries, unlocked", "再設定完了: 新しい値、回数は最大、ロック解除"
        )
    if not outcome.refusals:
        return Text("refused", "不可")
    first = outcome.refusals[0]
    return Text(
        f"refused: {first.text.en} [{first.source.label('en')}]",
        f"不可: {first.text.ja} [{first.source.label('ja')}]",
    )


def _check(entry: TimelineEntry) -> tuple[str, ...]:
    """How the entry differs from what its event expects."""
    event, sw, done, visits = entry.event, entry.sw, entry.done, entry.visits
    failures: list[str] = []
    if event.expect is not None:
        want = event.expect.lower()
        if want in ("done", "refused"):
            got = "none" if done is None else ("done" if done else "refused")
            if got != want:
                failures.append(f"expected {want}, got {got}")
        else:
            got_sw = "none" if sw is None else f"{sw:04X}"
            if got_sw != event.expect.upper():
                failures.append(f"expected {event.expect.upper()}, the card answered {got_sw}")
    codes = {r.code for r in entry.refusals}
    for code in event.expect_refusals:
        if code not in codes:
            got_codes = ", ".join(sorted(c.value for c in codes)) or "none"
            failures.append(f"expected refusal {code.value}, got {got_codes}")
    if event.expect_visits is not None and visits != event.expect_visits:
        failures.append(
            f"expected {count('en', event.expect_visits, 'visit', 'visits', '')}, the plan has {visits}"
        )
    return tuple(failures)


def new_card(scenario: Scenario) -> Card:
    """The in-memory TEST card a scenario asks for."""
    from card_emulator import Card  # the card is heavy to import: only when a scenario runs

    return Card.create(
        None, seed=scenario.card_seed, issued=scenario.card_issued, variant=scenario.card_variant
    )


def run_scenario(
    scenario: Scenario,
    card: Card | None = None,
    *,
    known_pins: Mapping[PinName, str] | None = None,
    on_entry: Callable[[TimelineEntry], None] | None = None,
) -> Timeline:
    """Replay ``scenario`` on ``card`` (a new in-memory card if None) and read every counter.

    ``known_pins``: the values the holder knows for "correct"; default ``card.created_pins``.
    """
    if card is None:
        card = new_card(scenario)
    values = _Values(known_pins if known_pins is not None else (card.created_pins or {}))
    reservations: dict[PinName, datetime] = {}
    entries: list[TimelineEntry] = []
    named = frozenset(
        [e.pin for e in scenario.events if e.pin is not None]
        + [want.pin for want in scenario.expect_final]
    )
    for event in scenario.events:
        captured: list[ExchangeLike] = []
        card.add_observer(captured.append)
        try:
            entry = _run_event(card, event, values, reservations)
        finally:
            card.remove_observer(captured.append)
        entry = replace(
            entry,
            counters=_counters(card, named),
            failures=_check(entry),
            exchanges=tuple(captured),
        )
        entries.append(entry)
        if on_entry is not None:
            on_entry(entry)
    final_failures: list[str] = []
    last = entries[-1]
    for want in scenario.expect_final:
        counter = last.counter(want.pin)
        name = PIN_SPECS[want.pin].name_en
        if counter is None:
            final_failures.append(f"final: this card has no {name}")
            continue
        if want.remaining is not None and counter.remaining != want.remaining:
            final_failures.append(
                f"final: {name} expected {want.remaining} tries left, has {counter.remaining}"
            )
        if want.locked is not None and counter.locked != want.locked:
            state = "locked" if want.locked else "not locked"
            final_failures.append(f"final: {name} expected {state}")
    return Timeline(scenario, tuple(entries), tuple(final_failures))


def _run_event(
    card: Card, event: Event, values: _Values, reservations: dict[PinName, datetime]
) -> TimelineEntry:
    """Carry out one event; the counters and the checks are added by ``run_scenario``."""
    where = f"event {event.index}"
    if event.action == Action.POWER_CYCLE:
        card.power_off()
        card.power_on()
        text = Text(
            "power off and on: verified states cleared, counters unchanged",
            "電源の切断と投入: 照合済み状態は消え、残り回数は変わらない",
        )
        return TimelineEntry(event, None, None, text)
    pin = event.pin
    assert pin is not None
    if event.action in (Action.QUERY, Action.VERIFY, Action.CHANGE):
        answer = _pin_operation(card, event, pin, values, where)
        return TimelineEntry(event, answer.sw, None, _pin_outcome(event.action, answer))
    other_pin = resets.KIOSK_PINS[resets.kiosk_rule_on(event.at.date())].get(pin)
    other_value = values.resolve(other_pin, event.other, where) if other_pin is not None else None
    visits: int | None = None
    if event.action == Action.RESERVE:
        outcome = resets.reserve_kiosk(card, pin, other_value, event.at)
        if outcome.done:
            reservations[pin] = event.at
    else:
        request = resets.ResetRequest(
            pin,
            event.via or resets.Channel.WINDOW,
            event.at,
            applicant=event.applicant,
            reserved_at=reservations.get(pin),
            certificate_expired=event.certificate_expired,
            mail_forwarded=event.mail_forwarded,
            reply_complete=event.reply_complete,
            reply_pin_hidden=event.reply_pin_hidden,
        )
        new = values.resolve(pin, event.new_value, where) or ""
        outcome = resets.reset_pin(card, request, new, other_value=other_value)
        if outcome.done:
            values.known[pin] = new
            reservations.pop(pin, None)  # a reservation is used once
        visits = outcome.plan.visits if outcome.plan else None
    text = _reset_outcome(event.action, outcome)
    return TimelineEntry(
        event, outcome.verify_sw, outcome.done, text, outcome.refusals, visits=visits
    )


def _pin_operation(
    card: Card, event: Event, pin: PinName, values: _Values, where: str
) -> resets.PinAnswer:
    """The APDUs of a query, verify or change event; a changed value becomes the known one."""
    if event.action == Action.QUERY:
        return resets.query_pin(card, pin)
    if event.action == Action.VERIFY:
        return resets.verify_pin(card, pin, values.resolve(pin, event.value, where) or "")
    new = values.resolve(pin, event.new_value, where) or ""
    if event.value is None:
        answer = resets.change_without_verify(card, pin, new)
    else:
        current = values.resolve(pin, event.value, where) or ""
        answer = resets.change_pin(card, pin, current, new)
    if answer.ok and answer.step == "change":
        values.known[pin] = new
    return answer
