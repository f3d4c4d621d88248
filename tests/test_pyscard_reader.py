"""The in-process pyscard reader: pyscard code sees the emulated card as a real reader."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("smartcard", reason="pyscard (the pcsc extra) is not installed")

from smartcard.CardConnection import CardConnection
from smartcard.CardConnectionObserver import ConsoleCardConnectionObserver
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.PassThruCardService import PassThruCardService
from smartcard.pcsc.PCSCExceptions import EstablishContextException
from smartcard.reader.ReaderFactory import ReaderFactory
from smartcard.scard import (
    SCARD_ATTR_ATR_STRING,
    SCARD_ATTR_VENDOR_NAME,
    SCARD_E_NO_SERVICE,
    SCARD_LEAVE_CARD,
    SCARD_RESET_CARD,
    SCARD_SHARE_EXCLUSIVE,
)
from smartcard.Session import Session
from smartcard.sw.ErrorCheckingChain import ErrorCheckingChain
from smartcard.sw.ISO7816_4ErrorChecker import ISO7816_4ErrorChecker
from smartcard.sw.SWExceptions import CheckingErrorException
from smartcard.System import readers

from card_emulator import Card
from card_emulator.transport import pyscard_reader
from card_emulator.transport.pyscard_reader import (
    DEFAULT_READER_NAME,
    PyscardUnavailableError,
    emulated_reader,
    pcscd_reachable,
    require_pyscard,
)

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_MISSING_EF = bytes.fromhex("00A4020C02ABCD")
SELECT_AUTH_CERT = bytes.fromhex("00A4020C02000A")
READ_4 = bytes.fromhex("00B0000004")
JPKI_ATR = bytes.fromhex("3BE000FF8131FE4514")


class RecordingCard:
    """Delegates to a real card and records what the reader asked of it."""

    def __init__(self, inner: Card) -> None:
        self.inner = inner
        self.events: list[str] = []

    @property
    def atr(self) -> bytes:
        return self.inner.atr

    def power_on(self) -> None:
        self.events.append("power_on")
        self.inner.power_on()

    def power_off(self) -> None:
        self.events.append("power_off")
        self.inner.power_off()

    def reset(self) -> None:
        self.events.append("reset")
        self.inner.reset()

    def transmit(self, apdu: bytes) -> bytes:
        self.events.append("transmit")
        return self.inner.transmit(apdu)


@pytest.fixture(scope="module")
def real_card() -> Iterator[Card]:
    card = Card.create(seed=7)
    yield card
    card.close()


@pytest.fixture
def card(real_card: Card) -> RecordingCard:
    return RecordingCard(real_card)


@pytest.fixture
def no_pcscd(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyscard as it is on a machine without pcscd: its PC/SC entry raises."""

    def pcsc_readers(groups: list[str] | None = None) -> list[Any]:
        raise EstablishContextException(SCARD_E_NO_SERVICE)

    monkeypatch.setattr(ReaderFactory, "factorymethods", [pcsc_readers])
    monkeypatch.setattr(pyscard_reader, "pcscd_reachable", lambda: False)


def names() -> list[str]:
    return [str(r) for r in readers()]


def transmit(connection: Any, apdu: bytes) -> tuple[bytes, int]:
    data, sw1, sw2 = connection.transmit(list(apdu))
    return bytes(data), sw1 << 8 | sw2


# --- listing and the factory ----------------------------------------------------------------------


def test_readers_lists_the_emulated_reader_without_pcscd(
    card: RecordingCard, no_pcscd: None
) -> None:
    with pytest.raises(EstablishContextException):
        readers()  # what a user without pcscd gets from pyscard alone
    with emulated_reader(card) as reader:
        assert names() == [DEFAULT_READER_NAME]
        assert readers() == [reader]
        assert reader.card is card


def test_readers_keeps_the_pcsc_readers_when_pcscd_answers(
    card: RecordingCard, monkeypatch: pytest.MonkeyPatch
) -> None:
    pcsc_reader = object()
    monkeypatch.setattr(ReaderFactory, "factorymethods", [lambda groups=None: [pcsc_reader]])
    monkeypatch.setattr(pyscard_reader, "pcscd_reachable", lambda: True)
    with emulated_reader(card, "Reader B") as reader:
        assert readers() == [pcsc_reader, reader]
        assert names()[-1] == "Reader B"


def test_keep_pcsc_false_replaces_even_with_pcscd(
    card: RecordingCard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ReaderFactory, "factorymethods", [lambda groups=None: [object()]])
    monkeypatch.setattr(pyscard_reader, "pcscd_reachable", lambda: True)
    with emulated_reader(card, keep_pcsc=False) as reader:
        assert readers() == [reader]


def test_real_pcsc_readers_stay_listed_when_pcscd_runs(card: RecordingCard) -> None:
    if not pcscd_reachable():
        pytest.skip("pcscd is not running here (the no-pcscd case is tested by monkeypatching)")
    before = names()
    with emulated_reader(card):
        assert names() == [*before, DEFAULT_READER_NAME]
    assert names() == before


def test_reader_groups_are_honoured(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card):
        assert names() == [DEFAULT_READER_NAME]
        assert [str(r) for r in readers(["SCard$DefaultReaders"])] == [DEFAULT_READER_NAME]
        assert readers(["Some$OtherGroup"]) == []


def test_factory_is_restored_on_exit_and_on_exceptions(card: RecordingCard, no_pcscd: None) -> None:
    saved = ReaderFactory.factorymethods
    with emulated_reader(card):
        assert ReaderFactory.factorymethods is not saved
    assert ReaderFactory.factorymethods is saved
    with pytest.raises(RuntimeError, match="boom"), emulated_reader(card):
        raise RuntimeError("boom")
    assert ReaderFactory.factorymethods is saved
    with pytest.raises(EstablishContextException):
        readers()


def test_nested_readers_restore_in_order(card: RecordingCard, no_pcscd: None) -> None:
    saved = ReaderFactory.factorymethods
    with emulated_reader(card, "Outer") as outer:
        with emulated_reader(card, "Inner", keep_pcsc=True) as inner:
            assert readers() == [outer, inner]
        assert readers() == [outer]
    assert ReaderFactory.factorymethods is saved


# --- transmit as pyscard code does it --------------------------------------------------------------


def test_session_sends_apdus_and_closes(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card):
        session = Session(DEFAULT_READER_NAME)
        try:
            assert bytes(session.getATR()) == card.atr
            assert session.sendCommandAPDU(list(SELECT_JPKI)) == ([], 0x90, 0x00)
            assert session.sendCommandAPDU(list(SELECT_MISSING_EF)) == ([], 0x6A, 0x82)
        finally:
            session.close()
    assert card.events[0] == "power_on"
    assert card.events[-1] == "power_off"


def test_transmit_runs_observers_and_error_checkers(
    card: RecordingCard, no_pcscd: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with emulated_reader(card) as reader:
        connection = reader.createConnection()
        connection.addObserver(ConsoleCardConnectionObserver())
        connection.setErrorCheckingChain([ErrorCheckingChain([], ISO7816_4ErrorChecker())])
        connection.connect()
        assert transmit(connection, SELECT_JPKI) == (b"", 0x9000)
        with pytest.raises(CheckingErrorException, match="File not found"):
            connection.transmit(list(SELECT_MISSING_EF))
        connection.disconnect()
        connection.release()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"connecting to {DEFAULT_READER_NAME}"
    assert out[1] == "> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
    assert out[2] == "<  [] 90 00"
    assert out[4] == "<  [] 6A 82"
    assert out[-2:] == [
        f"disconnecting from {DEFAULT_READER_NAME}",
        f"release from {DEFAULT_READER_NAME}",
    ]


def test_pass_thru_card_service_and_context_manager(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card) as reader:
        service = PassThruCardService(reader.createConnection())
        service.connection.connect()
        with service.connection:
            assert service.connection.transmit(list(SELECT_JPKI)) == ([], 0x90, 0x00)
            assert transmit(service.connection, SELECT_AUTH_CERT) == (b"", 0x9000)
            data, sw = transmit(service.connection, READ_4)
            assert sw == 0x9000
            assert data[:2] == b"\x30\x82"  # DER with a 2-byte length (card-interface.md §4.3)
    assert card.events[-1] == "power_off"


@pytest.fixture(scope="module")
def twins() -> Iterator[tuple[Card, Card]]:
    """Two identical cards, kept in lockstep: one behind the reader, one driven directly."""
    behind, direct = Card.create(seed=7), Card.create(seed=7)
    yield behind, direct
    behind.close()
    direct.close()


# Any 4..40-byte command except the ones whose answer is random (GET CHALLENGE, signatures).
commands = st.binary(min_size=4, max_size=40).filter(lambda a: a[1] not in (0x84, 0x2A))


@settings(max_examples=60, deadline=None)
@given(apdus=st.lists(commands, max_size=6))
def test_reader_answers_exactly_what_the_card_answers(
    twins: tuple[Card, Card], apdus: list[bytes]
) -> None:
    behind, direct = twins
    with emulated_reader(behind, keep_pcsc=False) as reader:
        connection = reader.createConnection()
        connection.connect()
        direct.power_on()
        for apdu in [SELECT_JPKI, *apdus]:
            data, sw = transmit(connection, apdu)
            assert data + sw.to_bytes(2, "big") == direct.transmit(apdu)
        connection.disconnect()
        direct.power_off()


# --- power, as PC/SC does it -----------------------------------------------------------------------


def test_power_follows_connections(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card) as reader:
        first, second = reader.createConnection(), reader.createConnection()
        first.connect()
        second.connect()
        assert card.events == ["power_on"]
        first.disconnect()  # another handle is open: the card stays powered
        assert card.events == ["power_on"]
        second.reconnect()  # default disposition: warm reset
        assert card.events == ["power_on", "reset"]
        second.disconnect()  # as pyscard's PC/SC connection: the reconnect's disposition
        assert card.events == ["power_on", "reset", "reset"]
        first.connect()
        first.disconnect()  # pyscard's default disposition: unpower
        assert card.events == ["power_on", "reset", "reset", "power_off"]


def test_reset_clears_the_selection_and_leave_keeps_it(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card) as reader:
        connection = reader.createConnection()
        connection.connect(disposition=SCARD_LEAVE_CARD)
        transmit(connection, SELECT_JPKI)
        assert transmit(connection, SELECT_AUTH_CERT)[1] == 0x9000
        connection.disconnect()  # leave: powered, JPKI still selected
        connection.connect()
        assert transmit(connection, SELECT_AUTH_CERT)[1] == 0x9000
        connection.reconnect(disposition=SCARD_RESET_CARD)
        assert transmit(connection, SELECT_AUTH_CERT)[1] != 0x9000  # no application selected
        connection.disconnect()
    assert card.events.count("power_on") == 1
    assert "reset" in card.events


def test_atr_attributes_and_control(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card) as reader:
        connection = reader.createConnection()
        with pytest.raises(CardConnectionException, match="not connected"):
            connection.getATR()
        connection.connect()
        assert bytes(connection.getATR()) == card.atr == JPKI_ATR
        assert connection.getProtocol() == CardConnection.T1_protocol
        assert bytes(connection.getAttrib(SCARD_ATTR_ATR_STRING)) == card.atr
        assert bytes(connection.getAttrib(SCARD_ATTR_VENDOR_NAME)).rstrip(b"\0")
        with pytest.raises(SmartcardException, match="control"):
            connection.control(0x42000C00)
        connection.disconnect()


def test_protocols_and_sharing(card: RecordingCard, no_pcscd: None) -> None:
    with emulated_reader(card) as reader:
        connection = reader.createConnection()
        with pytest.raises(CardConnectionException, match="protocol"):
            connection.connect(CardConnection.T0_protocol)  # the ATR offers T=1 only
        connection.connect(mode=SCARD_SHARE_EXCLUSIVE)
        with pytest.raises(CardConnectionException, match="sharing"):
            reader.createConnection().connect()
        with pytest.raises(CardConnectionException, match="protocol"):
            connection.transmit(list(SELECT_JPKI), CardConnection.T0_protocol)
        connection.disconnect()


def test_connections_fail_like_a_removed_card_after_exit(
    card: RecordingCard, no_pcscd: None
) -> None:
    with emulated_reader(card) as reader:
        connection = reader.createConnection()
        connection.connect()
    assert card.events[-1] == "power_off"
    with pytest.raises(CardConnectionException, match="removed"):
        connection.transmit(list(SELECT_JPKI))
    connection.disconnect()
    with pytest.raises(NoCardException):
        reader.createConnection().connect()


# --- pyscard stays optional -------------------------------------------------------------------------


def run_without_pyscard(code: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\nsys.modules['smartcard'] = None\nsys.modules['smartcard.scard'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, check=False
    )


def test_card_emulator_imports_without_pyscard() -> None:
    result = run_without_pyscard(
        "import card_emulator\nimport card_emulator.transport.pyscard_reader\nprint('ok')"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_missing_pyscard_is_a_clear_emulator_error() -> None:
    result = run_without_pyscard(
        "from card_emulator.errors import EmulatorError\n"
        "from card_emulator.transport.pyscard_reader import emulated_reader\n"
        "try:\n"
        "    with emulated_reader(None): pass\n"
        "except EmulatorError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PyscardUnavailableError pyscard is needed")
    assert "pip install" in result.stdout


def test_require_pyscard_passes_here() -> None:
    require_pyscard()
    assert issubclass(PyscardUnavailableError, Exception)


# --- several readers, removal through a slot, traces ------------------------------------------------


def test_several_readers_are_listed_at_once_and_close_in_any_order(no_pcscd: None) -> None:
    first_card, second_card = Card.create(seed=7), Card.create(seed=7)
    saved = ReaderFactory.factorymethods
    first = emulated_reader(first_card)
    second = emulated_reader(second_card)
    a, b = first.__enter__(), second.__enter__()
    assert names() == [DEFAULT_READER_NAME, "Emulated My Number Card Reader 1"]
    with pytest.raises(ValueError, match="already open"), emulated_reader(first_card, str(a)):
        pass
    for reader in (a, b):  # each reaches its own card
        connection = reader.createConnection()
        connection.connect()
        assert transmit(connection, SELECT_JPKI) == (b"", 0x9000)
        connection.disconnect()
    first.__exit__(None, None, None)  # the first closes first: the second stays listed
    assert readers() == [b]
    with emulated_reader(first_card) as again:  # the free name is taken again
        assert str(again) == DEFAULT_READER_NAME
    second.__exit__(None, None, None)
    assert ReaderFactory.factorymethods is saved


def test_a_removal_reaches_pyscard_as_from_a_real_reader(no_pcscd: None) -> None:
    from smartcard.scard import SCARD_W_REMOVED_CARD

    from card_emulator.testing import Recorder, RemoveCard, Slot

    card = Card.create(seed=7)
    slot = Slot(card, [RemoveCard(match="00B0", reinsert_after=1)])
    recorder = Recorder(transport="pyscard").attach(slot)
    with emulated_reader(slot) as reader:
        connection = reader.createConnection()
        connection.connect()
        assert transmit(connection, SELECT_JPKI) == (b"", 0x9000)
        assert transmit(connection, SELECT_AUTH_CERT) == (b"", 0x9000)
        with pytest.raises(CardConnectionException, match="removed") as removed:
            connection.transmit(list(READ_4))
        assert removed.value.hresult == SCARD_W_REMOVED_CARD
        with pytest.raises(CardConnectionException, match="removed"):  # one failed attempt
            connection.transmit(list(SELECT_JPKI))
        assert not slot.present
        with pytest.raises(CardConnectionException, match="removed"):  # the handle stays stale
            connection.transmit(list(SELECT_JPKI))
        assert slot.present  # back after one failed attempt (reinsert_after=1)
        connection.disconnect()
        connection.connect()  # a new session on the card put back: powered afresh
        assert transmit(connection, SELECT_AUTH_CERT)[1] == 0x6A82  # nothing selected
        assert transmit(connection, SELECT_JPKI) == (b"", 0x9000)
        connection.disconnect()
        slot.remove()
        with pytest.raises(NoCardException):
            reader.createConnection().connect()
    events = [e.event for e in recorder.entries if not e.is_exchange]
    assert events[:2] == ["connect", "power_on"] or events[:2] == ["power_on", "connect"]
    assert "remove" in events and "insert" in events and "disconnect" in events
    connects = [e for e in recorder.entries if e.event == "connect"]
    assert connects[0].detail["reader"] == DEFAULT_READER_NAME
