"""An in-process pyscard reader backed by a card: no pcscd, no vpcd (pcsc-vpcd.md §4).

Inside ``with emulated_reader(card) as reader:`` pyscard's ``smartcard.System.readers()`` lists the
emulated reader beside (or, without pcscd, instead of) the PC/SC readers, and ``Session``,
``CardConnection.transmit`` with its observers and error checkers, ``PassThruCardService`` work on
it as on a real reader. ``CardRequest``/``CardMonitor`` only see real PC/SC readers: test insertion
and removal through pcscd + vpcd.

pyscard is optional (the ``pcsc`` extra): it is imported on first use, and its absence is reported
as :class:`PyscardUnavailableError`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from card_emulator.errors import EmulatorError
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
    lock: threading.RLock = field(default_factory=threading.RLock)
    present: bool = True  # False once the reader has left the factory list
    powered: bool = False
    connections: int = 0
    exclusive: bool = False


class _Classes(NamedTuple):
    reader: Callable[[_ReaderState], EmulatedReaderHandle]


@contextmanager
def emulated_reader(
    card: CardLike,
    name: str = DEFAULT_READER_NAME,
    *,
    keep_pcsc: bool | None = None,
) -> Iterator[EmulatedReaderHandle]:
    """Make ``smartcard.System.readers()`` list a reader holding ``card`` for the ``with`` block.

    ``keep_pcsc``: keep the PC/SC readers in the list (None: when pcscd is reachable). Without
    pcscd, pyscard's PC/SC entry raises ``EstablishContextException`` before any other reader is
    listed, so the list is replaced (pcsc-vpcd.md §4). pyscard's list is restored on exit, even
    on an exception; the card is then powered off and the reader's connections fail like those of
    a removed card.
    """
    classes = _pyscard_classes()
    from smartcard.reader.ReaderFactory import ReaderFactory

    state = _ReaderState(card=card, name=name)
    reader = classes.reader(state)

    def list_emulated(groups: list[str] | None = None) -> list[EmulatedReaderHandle]:
        if not groups or _DEFAULT_GROUPS.intersection(groups):
            return [reader]
        return []

    if keep_pcsc is None:
        keep_pcsc = pcscd_reachable()
    saved: list[Callable[..., list[Any]]] = ReaderFactory.factorymethods
    ReaderFactory.factorymethods = [*saved, list_emulated] if keep_pcsc else [list_emulated]
    try:
        yield reader
    finally:
        ReaderFactory.factorymethods = saved
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
                if not state.present:
                    raise NoCardException("Unable to connect", hresult=SCARD_W_REMOVED_CARD)
                if self._connected:
                    self._disposition = SCARD_UNPOWER_CARD if disposition is None else disposition
                    return
                if state.connections and (state.exclusive or mode == SCARD_SHARE_EXCLUSIVE):
                    raise CardConnectionException(
                        "Unable to connect: sharing violation", hresult=SCARD_E_SHARING_VIOLATION
                    )
                if not state.powered:
                    state.card.power_on()
                    state.powered = True
                state.connections += 1
                state.exclusive = mode == SCARD_SHARE_EXCLUSIVE
                self._connected = True
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
                state.connections -= 1
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
                response = state.card.transmit(apdu)
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
            if not self._state.present:
                raise CardConnectionException("Card removed", hresult=SCARD_W_REMOVED_CARD)
            if not self._connected:
                raise CardConnectionException("Card not connected")

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
