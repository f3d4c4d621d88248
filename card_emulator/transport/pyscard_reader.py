"""An in-process pyscard reader backed by a card: no pcscd, no vpcd (pcsc-vpcd.md §4).

Inside ``with emulated_reader(card) as reader:`` pyscard's ``smartcard.System.readers()`` lists the
emulated reader beside (or, without pcscd, instead of) the PC/SC readers, and ``Session``,
``CardConnection.transmit`` with its observers and error checkers, ``PassThruCardService`` work on
it as on a real reader. Several emulated readers may be open at once, nested or not: each gets its
own name (``... Reader 0``, ``... Reader 1``, ...) and all of them are listed until they close.

Give it a ``card_emulator.slot.Slot`` instead of the bare card to pull the card out or apply faults:
a removal reaches pyscard code as it would from a real reader (``SCARD_W_REMOVED_CARD`` on the
handle, ``NoCardException`` on connect while the card is out, a new connection after it is back).
``CardRequest``/``CardMonitor`` only see real PC/SC readers: they need pcscd + vpcd.

pyscard is optional (the ``pcsc`` extra): it is imported on first use, and its absence is reported
as :class:`PyscardUnavailableError`.

Why this module is past ~400 lines: the pyscard subclasses (reader, connection, reader group) can
only be defined once pyscard is imported, so they are defined together in one function, beside the
registry of open readers they share; split, each part would import the others' internals.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from card_emulator.errors import EmulatorError
from card_emulator.slot import CardRemovedError
from card_emulator.transport.base import CardLike

__all__ = [
    "DEFAULT_READER_NAME",
    "EmulatedReaderHandle",
    "PyscardUnavailableError",
    "emulated_reader",
    "pcscd_reachable",
    "require_pyscard",
]

DEFAULT_READER_NAME = "Emulated My Number Card Reader 0"
_NAME_STEM = "Emulated My Number Card Reader"
VENDOR_NAME = "mynumber-card-emulator"
_DEFAULT_GROUPS = frozenset({"SCard$DefaultReaders", "SCard$AllReaders"})


class PyscardUnavailableError(EmulatorError):
    """pyscard (or the libpcsclite it loads) is not installed."""


class EmulatedReaderHandle(Protocol):
    """What :func:`emulated_reader` yields: a ``smartcard.reader.Reader.Reader`` subclass."""

    name: str

    @property
    def card(self) -> CardLike: ...

    def createConnection(self) -> Any:
        """A ``CardConnectionDecorator`` around a new connection to the card."""


def require_pyscard() -> None:
    """Import pyscard, or raise :class:`PyscardUnavailableError` saying how to install it."""
    try:
        import smartcard.scard  # noqa: F401 - loads the SWIG extension and libpcsclite.so.1
    except (ImportError, OSError) as exc:
        raise PyscardUnavailableError(
            "pyscard is needed for PC/SC readers: pip install 'mynumber-card-emulator[pcsc]' "
            f"(on Debian it also needs libpcsclite1) — {exc}"
        ) from exc


def pcscd_reachable() -> bool:
    """True when a PC/SC context can be established (pcscd is running and answering)."""
    require_pyscard()
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCardEstablishContext,
        SCardReleaseContext,
    )

    hresult, hcontext = SCardEstablishContext(SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        return False
    SCardReleaseContext(hcontext)
    return True


@dataclass(slots=True, eq=False)
class _ReaderState:
    """The slot of one emulated reader, shared by all connections made through it."""

    card: CardLike
    name: str
    keep_pcsc: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    present: bool = True  # False once the reader has left the factory list
    powered: bool = False
    connections: int = 0
    exclusive: bool = False
    insertion: int = 0  # the card's insertion count when it was last powered here

    def card_in(self) -> bool:
        """The card is in the slot (always, for a bare card); an attempt counts for a Slot."""
        knock = getattr(self.card, "knock", None)
        return bool(knock()) if callable(knock) else True

    def insertions(self) -> int:
        return int(getattr(self.card, "insertions", 0))

    def event(self, name: str, **detail: Any) -> None:
        """A transport event for the trace, when the card is a Slot."""
        note = getattr(self.card, "note_event", None)
        if callable(note):
            note(name, transport="pyscard", reader=self.name, **detail)


class _Registry:
    """Every emulated reader open in this process, and the factory list they replaced."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: list[tuple[_ReaderState, EmulatedReaderHandle]] = []
        self.saved: list[Callable[..., list[Any]]] | None = None

    def free_name(self) -> str:
        taken = {state.name for state, _ in self.open}
        return next(
            f"{_NAME_STEM} {k}" for k in range(len(taken) + 1) if f"{_NAME_STEM} {k}" not in taken
        )

    def install(self) -> None:
        """Point pyscard's factory list at the open readers (after the PC/SC ones if kept)."""
        from smartcard.reader.ReaderFactory import ReaderFactory

        if not self.open:
            if self.saved is not None:
                ReaderFactory.factorymethods = self.saved
                self.saved = None
            return
        if self.saved is None:
            self.saved = ReaderFactory.factorymethods
        keep = any(state.keep_pcsc for state, _ in self.open)
        pcsc = [_tolerant(f) for f in self.saved] if keep else []
        ReaderFactory.factorymethods = [*pcsc, self.list_readers]

    def list_readers(self, groups: list[str] | None = None) -> list[EmulatedReaderHandle]:
        if groups and not _DEFAULT_GROUPS.intersection(groups):
            return []
        with self.lock:
            return [reader for _, reader in self.open]


_REGISTRY = _Registry()


def _tolerant(factory: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    """A PC/SC factory that lists nothing, instead of raising, when pcscd stops answering."""
    from smartcard.pcsc.PCSCExceptions import BaseSCardException

    def readers(groups: list[str] | None = None) -> list[Any]:
        try:
            return factory(groups)
        except BaseSCardException:
            return []

    return readers


class _Classes(NamedTuple):
    reader: Callable[[_ReaderState], EmulatedReaderHandle]


@contextmanager
def emulated_reader(
    card: CardLike,
    name: str | None = None,
    *,
    keep_pcsc: bool | None = None,
) -> Iterator[EmulatedReaderHandle]:
    """Make ``smartcard.System.readers()`` list a reader holding ``card`` for the ``with`` block.

    ``card``: a ``Card``, or a ``card_emulator.slot.Slot`` around one (removal, faults, traces).
    ``name``: the reader's name; None takes the first free ``Emulated My Number Card Reader K``
    (``DEFAULT_READER_NAME`` for the first). A name another open emulated reader has: ValueError.
    ``keep_pcsc``: keep the PC/SC readers in the list (None: when pcscd is reachable). Without
    pcscd, pyscard's PC/SC entry raises ``EstablishContextException`` before any other reader is
    listed, so the list is replaced (pcsc-vpcd.md §4); while any open emulated reader keeps them,
    they are listed first, and a pcscd that stops answering lists none instead of raising.
    pyscard's list is restored when the last emulated reader closes, even on an exception; each
    reader's card is then powered off and its connections fail like those of a removed card.
    """
    classes = _pyscard_classes()
    if keep_pcsc is None:
        keep_pcsc = pcscd_reachable()
    with _REGISTRY.lock:
        if name is None:
            name = _REGISTRY.free_name()
        elif any(state.name == name for state, _ in _REGISTRY.open):
            raise ValueError(f"an emulated reader named {name!r} is already open")
        state = _ReaderState(card=card, name=name, keep_pcsc=keep_pcsc)
        reader = classes.reader(state)
        _REGISTRY.open.append((state, reader))
        _REGISTRY.install()
    try:
        yield reader
    finally:
        with _REGISTRY.lock:
            _REGISTRY.open = [(s, r) for s, r in _REGISTRY.open if s is not state]
            _REGISTRY.install()
        with state.lock:
            state.present = False
            if state.powered:
                state.powered = False
                card.power_off()


@functools.cache
def _pyscard_classes() -> _Classes:
    """Define the pyscard subclasses on first use, so that pyscard stays optional."""
    require_pyscard()
    from smartcard.CardConnection import CardConnection
    from smartcard.CardConnectionDecorator import CardConnectionDecorator
    from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
    from smartcard.reader.Reader import Reader
    from smartcard.scard import (
        SCARD_ATTR_ATR_STRING,
        SCARD_ATTR_DEVICE_FRIENDLY_NAME_A,
        SCARD_ATTR_VENDOR_NAME,
        SCARD_E_PROTO_MISMATCH,
        SCARD_E_SHARING_VIOLATION,
        SCARD_E_UNSUPPORTED_FEATURE,
        SCARD_LEAVE_CARD,
        SCARD_RESET_CARD,
        SCARD_SHARE_EXCLUSIVE,
        SCARD_UNPOWER_CARD,
        SCARD_W_REMOVED_CARD,
    )

    t1 = CardConnection.T1_protocol
    _DISPOSITIONS = {
        SCARD_LEAVE_CARD: "leave",
        SCARD_RESET_CARD: "reset",
        SCARD_UNPOWER_CARD: "unpower",
    }
    single_protocols = {
        CardConnection.T0_protocol: "T0",
        t1: "T1",
        CardConnection.RAW_protocol: "RAW",
    }

    class EmulatedCardConnection(CardConnection):  # type: ignore[misc]
        """A connection to the emulated card; ``transmit`` (observers, error checkers) is pyscard's.

        Power follows PC/SC: the first connection powers the card on, the last disconnect applies
        its disposition (pyscard's default: unpower); a reconnect resets the card by default.
        """

        def __init__(self, state: _ReaderState) -> None:
            CardConnection.__init__(self, state.name)
            self._state = state
            self._connected = False
            self._released = False
            self._disposition = SCARD_UNPOWER_CARD
            self._insertion = 0

        def __del__(self) -> None:
            with suppress(Exception):  # a destructor must not raise (as PCSCCardConnection)
                self.release()

        def connect(
            self,
            protocol: int | None = None,
            mode: int | None = None,
            disposition: int | None = None,
        ) -> None:
            CardConnection.connect(self, protocol)
            if self._released:
                raise CardConnectionException("Context already released")
            wanted = protocol if protocol else self.getProtocol()
            if not wanted & (t1 | CardConnection.RAW_protocol):
                # The ATR offers T=1 only (card-interface.md §1).
                raise CardConnectionException(
                    "Unable to connect with protocol: T0. Card protocol mismatch.",
                    hresult=SCARD_E_PROTO_MISMATCH,
                )
            state = self._state
            with state.lock:
                if not state.present or not state.card_in():
                    raise NoCardException("Unable to connect", hresult=SCARD_W_REMOVED_CARD)
                if self._connected and self._insertion == state.insertions():
                    self._disposition = SCARD_UNPOWER_CARD if disposition is None else disposition
                    return
                if self._connected:  # the card left and came back: this handle starts afresh
                    self._connected = False
                    state.connections -= 1
                if state.insertion != state.insertions():
                    state.powered = False
                    state.connections = 0
                    state.exclusive = False
                if state.connections and (state.exclusive or mode == SCARD_SHARE_EXCLUSIVE):
                    raise CardConnectionException(
                        "Unable to connect: sharing violation", hresult=SCARD_E_SHARING_VIOLATION
                    )
                if not state.powered:
                    try:
                        state.card.power_on()
                    except CardRemovedError:
                        raise NoCardException(
                            "Unable to connect", hresult=SCARD_W_REMOVED_CARD
                        ) from None
                    state.powered = True
                    state.insertion = state.insertions()
                state.connections += 1
                state.exclusive = mode == SCARD_SHARE_EXCLUSIVE
                self._connected = True
                self._insertion = state.insertion
                state.event("connect", shared=not state.exclusive)
            self._disposition = SCARD_UNPOWER_CARD if disposition is None else disposition
            self.setProtocol(
                CardConnection.RAW_protocol if wanted == CardConnection.RAW_protocol else t1
            )

        def reconnect(
            self,
            protocol: int | None = None,
            mode: int | None = None,
            disposition: int | None = None,
        ) -> None:
            CardConnection.reconnect(self, protocol)
            state = self._state
            with state.lock:
                self._check_connected()
                self._disposition = SCARD_RESET_CARD if disposition is None else disposition
                state.event("reconnect", disposition=_DISPOSITIONS.get(self._disposition, "?"))
                if self._disposition == SCARD_RESET_CARD:
                    state.card.reset()
                elif self._disposition != SCARD_LEAVE_CARD:  # unpower, eject: a cold reset
                    state.card.power_off()
                    state.card.power_on()

        def disconnect(self) -> None:
            state = self._state
            with state.lock:
                if not self._connected:
                    return
                CardConnection.disconnect(self)
                self._connected = False
                if self._insertion != state.insertions() or not state.present:
                    return  # a handle of a card that has left: nothing to power down
                state.connections -= 1
                state.event("disconnect", disposition=_DISPOSITIONS.get(self._disposition, "?"))
                if state.connections:
                    return  # PC/SC applies a disposition only for the last handle
                state.exclusive = False
                if not state.powered:
                    return
                if self._disposition == SCARD_RESET_CARD:
                    state.card.reset()
                elif self._disposition != SCARD_LEAVE_CARD:
                    state.powered = False
                    state.card.power_off()

        def release(self) -> None:
            if self._released:
                return
            CardConnection.release(self)
            self.disconnect()
            self._released = True

        def getATR(self) -> list[int]:
            CardConnection.getATR(self)
            with self._state.lock:
                self._check_connected()
                return list(self._state.card.atr)

        def doTransmit(
            self, command: list[int], protocol: int | None = None
        ) -> tuple[list[int], int, int]:
            if protocol is None:
                protocol = self.getProtocol()
            name = single_protocols.get(protocol)
            if name is None:
                raise CardConnectionException(
                    "Invalid protocol in transmit: must be CardConnection.T0_protocol, "
                    "CardConnection.T1_protocol, or CardConnection.RAW_protocol"
                )
            try:
                apdu = bytes(command)
            except (TypeError, ValueError) as exc:
                raise CardConnectionException(f"Failed to transmit: {exc}") from exc
            state = self._state
            with state.lock:
                self._check_connected()
                if protocol not in (self.getProtocol(), CardConnection.RAW_protocol):
                    raise CardConnectionException(
                        f"Failed to transmit with protocol {name}. Card protocol mismatch.",
                        hresult=SCARD_E_PROTO_MISMATCH,
                    )
                try:
                    if not getattr(state.card, "present", True):  # out since this handle connected
                        state.card_in()
                        raise CardRemovedError("no card in the slot")
                    response = state.card.transmit(apdu)
                except CardRemovedError:
                    state.powered = False
                    raise CardConnectionException(
                        "Card removed", hresult=SCARD_W_REMOVED_CARD
                    ) from None
            if len(response) < 2:
                raise CardConnectionException("Card returned no valid response")
            return list(response[:-2]), response[-2], response[-1]

        def doControl(self, controlCode: int, command: list[int] | None = None) -> list[int]:
            raise SmartcardException(
                f"Failed to control: the emulated reader has no control code {controlCode:#x}",
                hresult=SCARD_E_UNSUPPORTED_FEATURE,
            )

        def doGetAttrib(self, attribId: int) -> list[int]:
            with self._state.lock:
                self._check_connected()
                if attribId == SCARD_ATTR_ATR_STRING:
                    return list(self._state.card.atr)
                if attribId == SCARD_ATTR_DEVICE_FRIENDLY_NAME_A:
                    return list(self._state.name.encode() + b"\0")
                if attribId == SCARD_ATTR_VENDOR_NAME:
                    return list(VENDOR_NAME.encode() + b"\0")
            raise SmartcardException(
                f"Failed to getAttrib: attribute {attribId:#x} not supported",
                hresult=SCARD_E_UNSUPPORTED_FEATURE,
            )

        def _check_connected(self) -> None:
            state = self._state
            if not state.present:
                raise CardConnectionException("Card removed", hresult=SCARD_W_REMOVED_CARD)
            if not self._connected:
                raise CardConnectionException("Card not connected")
            if self._insertion != state.insertions():  # removed (and perhaps put back) since
                state.card_in()  # an attempt to reach the card: counts toward its reinsertion
                raise CardConnectionException("Card removed", hresult=SCARD_W_REMOVED_CARD)

    class EmulatedReader(Reader):  # type: ignore[misc]
        """A reader slot holding the emulated card."""

        def __init__(self, state: _ReaderState) -> None:
            Reader.__init__(self, state.name)
            self._state = state

        @property
        def card(self) -> CardLike:
            return self._state.card

        def createConnection(self) -> Any:
            return CardConnectionDecorator(EmulatedCardConnection(self._state))

    return _Classes(reader=EmulatedReader)
