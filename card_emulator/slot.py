"""A card in a reader slot, seen through test equipment: insertion, power, faults, one trace point.

``Slot(card, faults)`` is what a transport holds instead of the bare card when a test wants to
pull the card out, cut its power mid-VERIFY, force a status word, slow it down or damage an answer
(``card_emulator.faults``). It has the card's contact interface (``atr``, ``power_on``,
``power_off``, ``reset``, ``transmit``: ``card_emulator.transport.base.CardLike``), so the pyscard
reader and the served card use it unchanged; a recorder attached to it (``Recorder.attach(slot)``)
sees every exchange with the faults applied to it, and every event.

With the card out, :meth:`Slot.transmit` and :meth:`Slot.power_on` raise :class:`CardRemovedError`
(a reader turns it into its own "card removed" error). The card itself keeps every counter: a
removal is a power-off (card-interface.md §2.1, pin-rules.md §2).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from card_emulator.armed_faults import ArmedFault, ArmedPlan
from card_emulator.card import Card
from card_emulator.errors import EmulatorError
from card_emulator.faults import Corrupt, Fault, FaultPlan, ForceStatus, RemoveCard, Tear, Truncate
from card_emulator.rules import PIN_SPECS, AppName, PinName
from card_emulator.trace import Exchange, TraceSink

__all__ = ["CardRemovedError", "Slot"]

log = logging.getLogger(__name__)

_ACTIONS = {
    0xA4: "select",
    0xB0: "read_binary",
    0xB2: "read_record",
    0x20: "verify",
    0x24: "change",
    0x32: "change",
    0x2A: "sign",
    0x84: "get_challenge",
    0xCA: "get_data",
    0xC0: "get_response",
}


class CardRemovedError(EmulatorError):
    """The card is not in the reader: removed, or its power was lost in the middle of a command."""


class _PowerLost(BaseException):
    """Raised inside the card at the tearing point; a BaseException so that the card's "any other
    exception is a bug" boundary (``Card.transmit``) does not answer it with 6F00."""


class Slot:
    """A reader slot holding ``card``, with ``faults`` applied (a :class:`FaultPlan` or a list).

    ``sleep`` is called with seconds for :class:`Latency` (replays pass a no-op). Thread-safe: one
    command at a time, as the card itself. :meth:`close` unhooks it from the card.
    """

    def __init__(
        self,
        card: Card,
        faults: FaultPlan | Iterable[Fault] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._card = card
        self._sleep = sleep
        self._lock = threading.RLock()
        self._sinks: list[TraceSink] = []
        self._present = True
        self._failed_attempts = 0
        self._reinsert_after: int | None = None
        self.insertions = 0  # how many times the card was put back: readers compare it
        self._faults = ArmedPlan()
        self._captured: Exchange | None = None
        self._tear: ArmedFault | None = None
        self._app: AppName | None = None
        self._fid: int | None = None
        self._torn_pin: PinName | None = None
        card.add_observer(self._capture)
        card.add_power_observer(self._power_event)
        card.add_pin_write_hook(self._pin_written)
        if faults is not None:
            self.set_faults(faults)

    # -- what it holds -------------------------------------------------------------------------

    @property
    def card(self) -> Card:
        """The card in the slot (also while it is out: its memory and counters stay readable)."""
        return self._card

    @property
    def present(self) -> bool:
        """True while the card is in the slot."""
        return self._present

    @property
    def faults(self) -> FaultPlan:
        """The plan last set (faults that already fired included)."""
        return self._faults.plan

    def set_faults(self, faults: FaultPlan | Iterable[Fault] | None) -> None:
        """Replace the plan and re-arm every fault (counts start again); a ``faults`` event."""
        armed = ArmedPlan(faults)
        with self._lock:
            self._faults = armed
            self._emit_event("faults", plan=armed.plan.to_json())
            self._after_answer()  # RemoveCard(after=0): out at once

    def add_fault(self, fault: Fault) -> None:
        """Arm one more fault, keeping the others as they are."""
        with self._lock:
            self._faults.add(fault)
            self._emit_event("faults", plan=self._faults.plan.to_json(), added=fault.to_json())
            self._after_answer()

    def clear_faults(self) -> None:
        """Remove every fault: the card answers for itself again."""
        self.set_faults(None)

    # -- trace sinks ---------------------------------------------------------------------------

    def add_sink(self, sink: TraceSink) -> None:
        """Send every exchange and event of this slot to ``sink`` (a trace recorder) too."""
        self._sinks.append(sink)

    def remove_sink(self, sink: TraceSink) -> None:
        """Stop sending to ``sink``; ValueError if it was not added."""
        self._sinks.remove(sink)

    def note_event(self, name: str, **detail: Any) -> None:
        """An event of the transport (``connect``, ``disconnect``, ...) for the trace."""
        self._emit_event(name, **detail)

    # -- insertion -----------------------------------------------------------------------------

    def remove(self, *, reinsert_after: int | None = None) -> None:
        """Pull the card out (a power-off for the card). ``reinsert_after`` as in ``RemoveCard``."""
        with self._lock:
            self._remove(reinsert_after, ())

    def insert(self) -> None:
        """Put the card back (unpowered until a reader powers it or a command wakes it)."""
        with self._lock:
            self._insert(automatic=False)

    def _insert(self, *, automatic: bool) -> None:
        if self._present:
            return
        self._present = True
        self._reinsert_after = None
        self._failed_attempts = 0
        self.insertions += 1
        if automatic:  # by a fault's reinsert_after: a replay's slot does it by itself
            self._emit_event("insert", automatic=True)
        else:
            self._emit_event("insert")

    def _remove(self, reinsert_after: int | None, faults: Iterable[Mapping[str, Any]]) -> None:
        if not self._present:
            return
        self._present = False
        self._reinsert_after = reinsert_after
        self._failed_attempts = 0
        self._emit_event("remove", faults=list(faults))
        self._card.power_off()
        if reinsert_after == 0:
            self._insert(automatic=True)

    def knock(self) -> bool:
        """A reader's attempt to reach the card (connect, or a command on a stale handle): with
        the card out it counts toward ``reinsert_after``. True when the card is in the slot."""
        with self._lock:
            if not self._present:
                self._attempt_while_out()
            return self._present

    def _attempt_while_out(self) -> None:
        self._failed_attempts += 1
        limit = self._reinsert_after
        if limit is not None and self._failed_attempts > limit:
            self._insert(automatic=True)

    # -- the contact interface -----------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        """The card's Answer To Reset (ISO/IEC 7816-3 §8), bytes; the same while it is out."""
        return self._card.atr

    def power_on(self) -> None:
        """Power the card in the slot (``Card.power_on``); CardRemovedError when it is out."""
        with self._lock:
            if not self._present:
                self._attempt_while_out()
                if not self._present:
                    raise CardRemovedError("no card in the slot")
            self._card.power_on()

    def power_off(self) -> None:
        """Power the card off (``Card.power_off``); nothing when the slot is empty."""
        with self._lock:
            if self._present:
                self._card.power_off()

    def reset(self) -> None:
        """A warm reset of the card (``Card.reset``); CardRemovedError when it is out."""
        with self._lock:
            if not self._present:
                raise CardRemovedError("no card in the slot")
            self._card.reset()

    def transmit(self, apdu: bytes) -> bytes:
        """The card's answer with the plan's faults applied; ``CardRemovedError`` with the card
        out (also for the command at which a fault removes it or cuts its power)."""
        apdu = bytes(apdu)
        with self._lock:
            if not self._present:
                self._attempt_while_out()
                if not self._present:
                    self._emit_exchange(self._synthetic(apdu, b""), error="removed")
                    raise CardRemovedError("no card in the slot")
            self._faults.count_exchange()
            removal = self._faults.first(RemoveCard, apdu)
            if removal is not None and isinstance(removal.fault, RemoveCard):
                applied = [removal.fire()]
                self._emit_exchange(self._synthetic(apdu, b""), faults=applied, error="removed")
                self._remove(removal.fault.reinsert_after, applied)
                raise CardRemovedError("the card was removed at this command")
            forced = self._faults.first(ForceStatus, apdu)
            if forced is not None:
                return self._forced(apdu, forced)
            return self._through_card(apdu)

    # -- the exchange, step by step ------------------------------------------------------------

    def _forced(self, apdu: bytes, armed: ArmedFault) -> bytes:
        fault = armed.fault
        assert isinstance(fault, ForceStatus)
        response = fault.data + fault.sw.to_bytes(2, "big")
        applied = [armed.fire()]
        applied += self._delay(apdu, response)
        self._emit_exchange(self._synthetic(apdu, response), faults=applied)
        self._after_answer()
        return response

    def _through_card(self, apdu: bytes) -> bytes:
        self._tear = self._faults.first(Tear, apdu)
        self._captured = None
        try:
            response = self._card.transmit(apdu)
        except _PowerLost:
            return self._torn(apdu)
        finally:
            self._tear = None
        exchange = self._captured or self._synthetic(apdu, response)
        applied: list[dict[str, Any]] = []
        delivered = response
        truncate = self._faults.first(Truncate, apdu)
        if truncate is not None and isinstance(truncate.fault, Truncate):
            delivered = delivered[: truncate.fault.keep]
            applied.append(truncate.fire())
        corrupt = self._faults.first(Corrupt, apdu)
        if corrupt is not None:
            fault = corrupt.fault
            assert isinstance(fault, Corrupt)
            delivered = fault.apply(delivered)
            applied.append(corrupt.fire())
        applied += self._delay(apdu, response)
        self._emit_exchange(
            exchange, response=delivered if delivered != response else None, faults=applied
        )
        self._after_answer()
        return delivered

    def _torn(self, apdu: bytes) -> bytes:
        armed = self._tear
        assert armed is not None and isinstance(armed.fault, Tear)
        applied = [armed.fire()]
        pin = self._torn_pin
        tries = self._card.issuer.pin_status(pin).remaining if pin else None
        exchange = Exchange(
            command=apdu,
            response=b"",
            sw=0,
            app=self._app,
            fid=PIN_SPECS[pin].fid if pin else self._fid,
            pin=pin,
            tries_left=tries,
            action="verify",
            reason="power lost after the counter write",
        )
        self._emit_exchange(exchange, faults=applied, error="torn")
        self._remove(armed.fault.reinsert_after, applied)
        raise CardRemovedError("power was lost in the middle of the VERIFY")

    def _after_answer(self) -> None:
        """Pull the card out when a ``RemoveCard(after=N)`` has seen its N exchanges."""
        armed = self._faults.removal_due()
        if armed is not None and isinstance(armed.fault, RemoveCard):
            self._remove(armed.fault.reinsert_after, [armed.fire()])

    def _delay(self, apdu: bytes, response: bytes) -> list[dict[str, Any]]:
        applied = []
        for armed, latency in self._faults.latencies():
            ms = latency.delay_ms(apdu, response, self._card.atr)
            if ms > 0:
                self._sleep(ms / 1000)
            applied.append(armed.describe(waited_ms=round(ms, 3)))
        return applied

    # -- the card's side -----------------------------------------------------------------------

    def _pin_written(self, pin: PinName) -> None:
        armed = self._tear
        if armed is None or not isinstance(armed.fault, Tear):
            return
        wanted = armed.fault.pin
        if wanted is None or wanted == pin.value:
            self._torn_pin = pin
            raise _PowerLost

    def _capture(self, exchange: Exchange) -> None:
        self._captured = exchange
        self._app, self._fid = exchange.app, exchange.fid

    def _power_event(self, name: str) -> None:
        self._app = self._fid = None
        self._emit_event(name)

    def _synthetic(self, apdu: bytes, response: bytes) -> Exchange:
        """An exchange the card never answered (forced, or the card out), as the slot saw it."""
        ins = apdu[1] if len(apdu) > 1 else -1
        action = _ACTIONS.get(ins, "unknown")
        if action == "verify" and len(apdu) <= 4:
            action = "query"
        sw = int.from_bytes(response[-2:], "big") if len(response) >= 2 else 0
        return Exchange(apdu, response, sw, self._app, self._fid, None, None, action, "")

    # -- sinks ---------------------------------------------------------------------------------

    def _emit_exchange(
        self,
        exchange: Exchange,
        *,
        response: bytes | None = None,
        faults: Iterable[Mapping[str, Any]] = (),
        error: str | None = None,
    ) -> None:
        listed = list(faults)
        for sink in list(self._sinks):
            try:
                sink.on_exchange(exchange, response=response, faults=listed, error=error)
            except Exception:  # a recorder's failure never changes what the client gets
                log.exception("trace sink failed")

    def _emit_event(
        self, name: str, *, faults: Iterable[Mapping[str, Any]] = (), **detail: Any
    ) -> None:
        listed = list(faults)
        for sink in list(self._sinks):
            try:
                sink.on_event(name, faults=listed, **detail)
            except Exception:
                log.exception("trace sink failed")

    def close(self) -> None:
        """Unhook from the card (the card stays open, with every counter as it is)."""
        self._card.remove_observer(self._capture)
        self._card.remove_power_observer(self._power_event)
        self._card.remove_pin_write_hook(self._pin_written)

    def __repr__(self) -> str:
        state = "present" if self._present else "out"
        return f"Slot({state}, {len(self._faults.plan.faults)} fault(s))"
