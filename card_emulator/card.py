"""The card: ``Card.transmit(bytes) -> bytes`` is the one boundary every reader goes through.

It never raises. A malformed APDU gets the status word ISO 7816-4 gives it; an application's refusal
(``CardError``) becomes its status word; anything else is a bug, logged with its traceback, and
answered ``6F00``. Sans-I/O: no sockets, threads or prints here.

What is not the chip's own state moved out: the instructions to ``apps/`` (the card-level ones to
``apps/card_level.py``), ``Card.create``'s work to ``templates.py``. What stays is one class — the
life cycle, the contact interface, the dispatch hot path, the test equipment's surface — a little
past ~400 lines.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from apdu import ApduFormatError, CommandApdu, StatusWord, bytes_available_sw, redact_command
from card_emulator.apps import APPLICATIONS, Context, Note, Session
from card_emulator.apps.card_level import (
    get_challenge,
    get_data,
    get_response,
    secure_messaging,
    select,
)
from card_emulator.errors import CardError, CardFileError, CardStorageError
from card_emulator.issuer import Issuer
from card_emulator.memory import CardMemory
from card_emulator.pin import PinRecord
from card_emulator.rules import PinName
from card_emulator.store import CardStore
from card_emulator.trace import Exchange

if TYPE_CHECKING:
    from card_emulator.issuance import Variant

log = logging.getLogger(__name__)
SW = StatusWord
_NO_ERROR = SW.NO_ERROR  # bound once: an enum class attribute is slow on Python 3.11
_NO_ERROR_BYTES = b"\x90\x00"  # what most answers end with: no int.to_bytes call for them

DEFAULT_ATR = bytes.fromhex("3BE000FF8131FE4514")  # contact, no historical bytes (§1.2)
# Instructions an application would answer: at MF level, with no EF to act on, they get 6986.
_NEEDS_APPLICATION = {
    (0x00, 0xB0),
    (0x00, 0xB2),
    (0x00, 0x20),
    (0x00, 0x24),
    (0x80, 0x2A),
    (0x80, 0x32),
}

Observer = Callable[[Exchange], None]
# Told "power_on", "power_off" or "reset" when the contact interface changes the card's power.
PowerObserver = Callable[[str], None]


class Card:
    """A My Number Card chip. Create one with ``Card.create``, reopen it with ``Card.open``."""

    def __init__(self, store: CardStore, *, memory: CardMemory | None = None) -> None:
        """A card over ``store``; ``memory`` is the store's content already loaded (``clone``)."""
        self._store = store
        self._memory = CardMemory(store) if memory is None else memory
        # What a command works on (apps.base.Context): made once, lent to each transmit, its note
        # cleared first (issue 10: no allocation per APDU); a nested transmit gets its own. The
        # session lives in it; only other_contact lends another for a while (power events
        # restart the session in place, never replace it).
        self._ctx = Context(self._memory, Session(), Note())
        self._answering = False  # a transmit is running (see transmit)
        self._observers: list[Observer] = []
        self._power_observers: list[PowerObserver] = []
        self._powered = True
        self._closed = False
        # One chip, one command at a time: readers may call from any thread (pyscard, vpcd).
        self._lock = threading.RLock()
        self.created_pins: dict[PinName, str] | None = None
        self.issuer = Issuer(self._memory, on_reset=self.reset, lock=self._lock)

    # -- life cycle ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        seed: int = 0,
        issued: date | None = None,
        variant: Variant = "standard",
        atr: bytes = DEFAULT_ATR,
        **overrides: Any,
    ) -> Card:
        """A new card for a synthetic holder, the same bytes for the same arguments.

        ``path`` None keeps it in memory. ``overrides`` name persona fields (holder name, address,
        birth date, My Number, initial PINs, ...); see ``card_emulator.issuance.issue_card``.
        In memory, arguments already created in this process give a :meth:`clone` of the card
        they made then (``card_emulator.templates``: well under a millisecond instead of about
        10 ms; the PIN hashes, salts included, are the template's). A new seed's keys come from
        the on-disk key cache (``card_emulator.key_cache``) or are searched once.
        """
        from card_emulator.templates import create_card

        return create_card(cls, path, seed, issued, variant, atr, overrides)

    def load_keys(self) -> None:
        """Parse and check every private key now (else each is parsed at its first use); clones
        made afterwards share the parsed keys. ValueError for a key that does not decode or
        whose numbers do not fit together (``CardMemory.check``)."""
        with self._lock:
            self._memory.check()

    def clone(self) -> Card:
        """An independent in-memory card, byte-identical to this one now: every EF, key, record,
        PIN hash and retry counter, and the metadata (ATR, holder, seed).

        It starts as a freshly inserted card (powered, nothing selected or verified), without this
        card's observers. ``created_pins`` is a copy of this card's: the values its PINs were
        created with (None for a card opened from a file), which a change or reset since does
        not update. Immutable contents (bytes, parsed keys) are shared, so a clone takes well
        under a millisecond; what either card does afterwards never reaches the other. Works for
        file-backed and in-memory cards; the clone is never backed by a file. ``CardFileError``
        if this card is closed.
        """
        with self._lock:
            if self._closed:
                raise CardFileError("a closed card cannot be cloned")
            store = self._store.clone()
            memory = self._memory.copy_to(store)
        card = type(self)(store, memory=memory)
        card.created_pins = None if self.created_pins is None else dict(self.created_pins)
        return card

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Card:
        """An existing card file. ``CardFileError`` if it is missing, not a card or damaged;
        ``CardInUseError`` if another process has it open."""
        store = CardStore.open(path, finish=False)
        try:
            card = cls(store)
            card._check_contents()
            store.finish_opening()  # a format-1 file is sealed only once it decoded
        except Exception as error:
            store.close()
            if isinstance(error, CardFileError):
                raise
            kind = type(error).__name__
            raise CardFileError(f"{path}: damaged card file ({kind}: {error})") from None
        return card

    def _check_contents(self) -> None:
        """What the store's structural check cannot see: every value the card will need decodes."""
        atr = self.atr
        if not 2 <= len(atr) <= 33 or atr[0] not in (0x3B, 0x3F):
            raise CardFileError(f"{self.path}: damaged card file (ATR {atr.hex().upper()})")
        int(self._memory.meta["seed"])
        self.issuer.holder()
        self.issuer.certificates()
        self.load_keys()

    @property
    def path(self) -> Path | None:
        return self._store.path

    def close(self) -> None:
        """Release the card file; the card answers nothing but 6F00 afterwards."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._store.close()

    def __enter__(self) -> Card:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the contact interface -----------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        """The Answer To Reset the card gives a reader on power-on (ISO 7816-3 §8), as bytes."""
        return bytes.fromhex(self._memory.meta["atr"])

    @property
    def _session(self) -> Session:
        """The reader's session (a contact's inside :meth:`other_contact`)."""
        return self._ctx.session

    @property
    def powered(self) -> bool:
        """Whether the card is powered (a reader powers it; a command to an unpowered card does)."""
        return self._powered

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """The card's re-entrant lock: one command at a time, whichever thread sends it. Hold it
        to make several calls one step (``card_emulator.steering``)."""
        return self._lock

    def power_on(self) -> None:
        """Power the card (a reader's cold reset, ISO 7816-3): a new session with nothing selected
        or verified; the retry counters, kept on the card, are untouched."""
        with self._lock:
            self._powered = True
            self._session.restart(None)
            self._notify_power("power_on")

    def power_off(self) -> None:
        """Volatile state only: the selected DF/EF and what was verified. Counters stay."""
        with self._lock:
            self._powered = False
            self._session.restart(None)
            self._notify_power("power_off")

    def reset(self) -> None:
        """A warm reset (ISO 7816-3): like :meth:`power_on`, a new session; counters stay."""
        with self._lock:
            self._powered = True
            self._session.restart(None)
            self._notify_power("reset")

    # -- test equipment: a second contact, PIN snapshots (card_emulator.steering) --------------

    @contextmanager
    def other_contact(self, session: Session, observers: list[Observer]) -> Iterator[None]:
        """For the duration, commands and resets act on ``session`` instead of the reader's: the
        card counts as powered, exchanges reach ``observers`` only, no power observer hears a
        thing. Holds the card's lock. No real chip has this (one contact interface): it is how
        ``steering.Contact`` lets a command talk to a served card without touching the client's
        session. ``session`` is changed in place, never replaced."""
        with self._lock:
            saved = (self._ctx, self._powered, self._observers, self._power_observers)
            self._ctx, self._powered = Context(self._memory, session, Note()), True
            self._observers, self._power_observers = observers, []
            try:
                yield
            finally:
                self._ctx, self._powered, self._observers, self._power_observers = saved

    def forget_verified(self, pin: PinName) -> None:
        """``pin`` is no longer verified in the current session; nothing else changes (what an
        issuer reset through another contact leaves in the reader's session)."""
        with self._lock:
            self._session.verified.discard(pin)

    def pin_records(self) -> tuple[PinRecord, ...]:
        """Every PIN record of the card now, in PinName order: salted hash and counter, never a
        value (``steering.Snapshot``)."""
        with self._lock:
            memory = self._memory
            return tuple(memory.pin(pin) for pin in PinName if memory.has_pin(pin))

    def restore_pin_records(self, records: Iterable[PinRecord]) -> None:
        """Write each record back, durably (the card file too): its hash, salt and counter as
        they were. Then the session starts afresh as after :meth:`reset` (power observers hear
        ``reset``), and the power stays as it was. ``CardStorageError`` if the file cannot be
        written."""
        with self._lock:
            for record in records:
                self._memory.put_pin(record)
            powered = self._powered
            self.reset()
            self._powered = powered

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer(exchange)`` after every APDU with a ``card_emulator.trace.Exchange``:
        command, response and the card's reading of it (the PIN in it stays in ``command``:
        print ``exchange.redacted()``)."""
        self._observers.append(observer)

    def remove_observer(self, observer: Observer) -> None:
        """Stop calling ``observer``; ValueError if it was not added."""
        self._observers.remove(observer)

    def add_power_observer(self, observer: PowerObserver) -> None:
        """Call ``observer(event)`` on every power-on, power-off and reset (a trace's events)."""
        self._power_observers.append(observer)

    def remove_power_observer(self, observer: PowerObserver) -> None:
        """Stop calling ``observer`` on power events; ValueError if it was not added."""
        self._power_observers.remove(observer)

    def add_pin_write_hook(self, hook: Callable[[PinName], None]) -> None:
        """Call ``hook(pin)`` right after a VERIFY's decrement is durable and before its comparison
        is answered: the instant a torn VERIFY stops at (``card_emulator.slot.Tear``). An exception
        the hook raises leaves the card as power lost at that instant would."""
        self._memory.pin_write_hooks.append(hook)

    def remove_pin_write_hook(self, hook: Callable[[PinName], None]) -> None:
        """Stop calling ``hook``; ValueError if it was not added."""
        self._memory.pin_write_hooks.remove(hook)

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU in, one response APDU (data + SW1 SW2) out. Never raises.

        Every exchange reaches the observers, a failed one too: a card file that can no longer be
        written answers ``6581`` (memory failure, ISO 7816-4 §5.6), a closed card and a bug
        ``6F00`` (a bug is logged in one line; its traceback only at DEBUG level).

        A command sent from inside this one (a PIN-write hook, an observer, a power observer)
        is answered at once on the same session, with a context and note of its own: each
        exchange reaches the observers as the card read it (``apps.base.Context``).
        """
        lock = self._lock
        lock.acquire()  # not ``with``: the same, and ~850 instructions less an APDU (issue 10)
        nested, self._answering = self._answering, True
        try:
            # A command sent from inside a command (by a hook) gets a context of its own.
            ctx = Context(self._memory, self._ctx.session, Note()) if nested else self._ctx
            note = ctx.note
            note.action, note.pin, note.reason = "unknown", None, ""
            raw = b""
            try:
                raw = apdu if type(apdu) is bytes else bytes(apdu)
                if self._closed:
                    note.reason = "the card is closed"
                    data, sw = b"", int(SW.NO_PRECISE_DIAGNOSIS)
                else:
                    if not self._powered:  # a reader powers the card before it talks to it
                        self.power_on()
                    data, sw = self._process(raw, ctx)
            except CardStorageError as failure:
                log.error("%s", failure)
                note.reason = str(failure)
                data, sw = b"", int(SW.MEMORY_FAILURE)
            except Exception as bug:
                log.error(
                    "bug while answering %s: %s: %s",
                    _safe_redact(apdu),
                    type(bug).__name__,
                    bug,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                note.reason = "internal error"
                data, sw = b"", int(SW.NO_PRECISE_DIAGNOSIS)
            response = data + (_NO_ERROR_BYTES if sw is _NO_ERROR else sw.to_bytes(2, "big"))
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s -> %04X (%d bytes)", _safe_redact(raw), sw, len(data))
            if self._observers:
                self._notify(raw, response, sw, ctx)
            return response
        finally:
            self._answering = nested
            lock.release()

    # -- dispatch ------------------------------------------------------------------------------

    def _process(self, raw: bytes, ctx: Context) -> tuple[bytes, int]:
        session = ctx.session
        try:
            command = CommandApdu.parse(raw)
        except ApduFormatError as error:
            ctx.note.reason = "malformed APDU"
            session.pending = b""
            return b"", error.sw
        pending, session.pending = session.pending, b""
        try:
            data = self._dispatch(command, ctx, pending)
        except CardError as refusal:
            ctx.note.reason = refusal.reason
            return b"", refusal.sw
        if len(data) <= (command.le or 0):  # all of it fits (the common case): no chaining
            return data, _NO_ERROR
        return self._fit_to_le(command, data, session)

    def _dispatch(self, command: CommandApdu, ctx: Context, pending: bytes) -> bytes:
        cla = command.cla
        if cla & 0x7F:  # 00 and 80, what clients send, are channel 0 with no chaining and no SM
            # Interindustry classes 0X-1X and 4X-7X, JICSAP's proprietary 8X-9X (ISO 7816-4 §5.4.1)
            if 0x20 <= cla <= 0x3F or cla >= 0xA0:
                raise CardError(SW.CLA_NOT_SUPPORTED, f"class {cla:02X} is not supported")
            if command.channel != 0:
                raise CardError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED, "only logical channel 0")
            if command.is_chained:
                raise CardError(SW.COMMAND_CHAINING_NOT_SUPPORTED, "command chaining not supported")
            if command.is_secure_messaging:  # only the text AP has it (§1.3, §5.7)
                return secure_messaging(command, ctx)
        ins = command.ins
        if not cla & 0x80:  # the interindustry instructions the card answers itself
            if ins == 0xA4:
                return select(command, ctx)
            if ins == 0xC0:
                return get_response(command, ctx, pending)
            if ins == 0x84:
                return get_challenge(command, ctx)
            if ins == 0xCA:
                return get_data(command, ctx)
        app_name = ctx.session.app
        if app_name is None:
            if (cla & 0x80, ins) in _NEEDS_APPLICATION:
                raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF, "no application is selected")
            raise CardError(SW.INS_NOT_SUPPORTED, f"instruction {ins:02X} not supported")
        return APPLICATIONS[app_name].handle(command, ctx)

    def _fit_to_le(self, command: CommandApdu, data: bytes, session: Session) -> tuple[bytes, int]:
        """Response chaining belongs to the card, not to each application (ISO 7816-4 §5.3.4).

        More data than Le (or data to a command sent without Le, as T=0 readers do): the part
        that fits, and ``61xx`` with the rest waiting for GET RESPONSE.
        """
        limit = 0 if command.le is None else command.le
        if len(data) <= limit:
            return data, _NO_ERROR
        rest = data[limit:]
        session.pending = rest
        return data[:limit], bytes_available_sw(min(len(rest), 256))

    def _notify(self, command: bytes, response: bytes, sw: int, ctx: Context) -> None:
        note, session = ctx.note, ctx.session
        pin = note.pin
        tries = self._memory.pin(pin).remaining if pin and self._memory.has_pin(pin) else None
        exchange = Exchange(
            command=command,
            response=response,
            sw=sw,
            app=session.app,
            fid=session.ef,
            pin=pin,
            tries_left=tries,
            action=note.action,
            reason=note.reason,
        )
        for observer in list(self._observers):
            try:
                observer(exchange)
            except Exception:
                log.exception("card observer failed")

    def _notify_power(self, event: str) -> None:
        for observer in list(self._power_observers):
            try:
                observer(event)
            except Exception:
                log.exception("card power observer failed")


def _safe_redact(apdu: bytes) -> str:
    try:
        return redact_command(bytes(apdu))
    except Exception:
        return f"<{len(apdu)} bytes>"
