"""The test equipment around a served card: the test kit's fault plan and trace recorder.

A served card is the bare ``Card`` in its reader loop until a fault is set or a trace started; then
the loop holds a ``card_emulator.slot.Slot`` around it (the kit's faults, applied exactly as in-process
and on the pyscard reader) with a ``card_emulator.recorder.Recorder`` on it (the kit's JSON Lines
format, docs/trace-format.md). When both are gone again, the loop gets the bare card back: nothing
runs per APDU unless a test asked for it.

A removal the slot makes (a ``remove`` or ``tear`` fault) takes the card out of the vpcd reader for
real: pcscd sees it leave, and the command that pulled it gets no answer.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from card_emulator.card import Card
from card_emulator.faults import Fault, FaultPlan
from card_emulator.recorder import Recorder
from card_emulator.slot import Slot
from card_emulator.trace import Exchange
from card_emulator.transport.vpcd import VpcdClient

__all__ = ["REINSERT_STEP", "Rig"]

# A fault's reinsert_after counts a reader's attempts to reach a card that is out. pcscd cannot tell
# a card that is out of its reader about them, so on a served card N > 0 means N * this many seconds.
REINSERT_STEP = 0.5


class Rig:
    """Faults and trace of the card in ``client``'s reader (named ``reader``). Thread-safe."""

    def __init__(self, card: Card, client: VpcdClient, reader: str) -> None:
        self._card = card
        self._client = client
        self._reader = reader
        self._lock = threading.RLock()
        self._plan = FaultPlan()
        self._slot: Slot | None = None
        self._recorder: Recorder | None = None
        self._trace_path: Path | None = None

    # -- what the control channel asks for -----------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``{"faults": plan JSON or None, "trace": path or None}`` for ``ctl status``."""
        with self._lock:
            plan = self._slot.faults if self._slot is not None else self._plan
            return {
                "faults": plan.to_json() if plan.faults else None,
                "trace": str(self._trace_path) if self._trace_path is not None else None,
            }

    def add_fault(self, fault: Fault) -> dict[str, Any]:
        """Arm one more fault (the slot goes into the reader loop if it was not there); the whole
        plan's JSON."""
        with self._lock:
            self._plan = FaultPlan((*self._current_plan().faults, fault))
            slot = self._wire()
            assert slot is not None
            slot.add_fault(fault)
            return self._plan.to_json()

    def set_plan(self, plan: FaultPlan) -> dict[str, Any]:
        """Replace the fault plan (an empty one takes the slot out of the loop unless a trace runs);
        its JSON."""
        with self._lock:
            self._plan = plan
            slot = self._wire()
            if slot is not None:
                slot.set_faults(plan)
            return plan.to_json()

    def clear(self) -> None:
        """No fault any more (the card stays in or out of the reader as it is)."""
        with self._lock:
            self._plan = FaultPlan()
            if self._slot is not None:
                self._slot.clear_faults()
            self._wire()

    def trace_start(self, path: Path) -> None:
        """Record every exchange and event from now on into ``path`` (JSON Lines)."""
        with self._lock:
            if self._recorder is not None:
                raise ValueError(f"a trace is already being recorded to {self._trace_path}")
            # Every entry goes to the file; none is kept in memory (a served card runs for long).
            self._recorder = Recorder(path, transport="vpcd", keep=0)
            self._trace_path = path
            slot = self._wire()
            assert slot is not None
            self._recorder.attach(slot)
            slot.note_event("connect", transport="vpcd", reader=self._reader)

    def trace_stop(self) -> dict[str, Any]:
        """Close the trace: ``{"path", "exchanges"}``. ValueError when no trace is being recorded."""
        with self._lock:
            recorder, path = self._recorder, self._trace_path
            if recorder is None or path is None:
                raise ValueError("no trace is being recorded")
            exchanges = recorder.count
            recorder.close()
            self._recorder = self._trace_path = None
            self._wire()
            return {"path": str(path), "exchanges": exchanges}

    # -- the reader ----------------------------------------------------------------------------

    def remove(self) -> None:
        """Take the card out of the reader (through the slot when one is wired, so the trace shows
        it)."""
        with self._lock:
            if self._slot is not None:
                self._slot.remove()  # its "remove" event takes the card out of the reader
            else:
                self._client.remove()

    def insert(self) -> None:
        """Put the card back in the reader."""
        with self._lock:
            if self._slot is not None:
                self._slot.insert()  # its "insert" event puts the card back in the reader
            self._client.insert()

    def use(self, card: Card) -> None:
        """Another card in the reader (a swap): the plan and the trace go on with it."""
        with self._lock:
            recorder = self._recorder
            if self._slot is not None:
                self._plan = self._slot.faults
                if recorder is not None:
                    recorder.note(f"swapped: another card in {self._reader}")
                    recorder.detach()
                self._unwire()
            self._card = card
            self._client.card = card
            slot = self._wire()
            if slot is not None and recorder is not None:
                recorder.attach(slot)

    def note(self, name: str, **detail: Any) -> None:
        """A transport event for the trace (pcscd restarted, reconnected)."""
        slot = self._slot
        if slot is not None:
            slot.note_event(name, transport="vpcd", reader=self._reader, **detail)

    def close(self) -> None:
        """Close the trace, if any, and take the slot out of the loop; the card stays as it is."""
        with self._lock:
            if self._recorder is not None:
                self._recorder.close()
                self._recorder = self._trace_path = None
            self._unwire()

    # -- the slot's events (a TraceSink) -------------------------------------------------------

    def on_exchange(
        self,
        exchange: Exchange,
        *,
        response: bytes | None = None,
        faults: Sequence[Mapping[str, Any]] = (),
        error: str | None = None,
    ) -> None:
        """Exchanges are the recorder's business."""

    def on_event(
        self, name: str, *, faults: Sequence[Mapping[str, Any]] = (), **detail: Any
    ) -> None:
        """The slot's events (a ``TraceSink``): a fault's ``remove`` takes the card out of the
        reader for real (back after ``reinsert_after`` × 0.5 s when it says so), ``insert`` puts
        it back."""
        if name == "remove":
            self._client.remove()
            again = [
                f["reinsert_after"] for f in faults if isinstance(f.get("reinsert_after"), int)
            ]
            if again and again[0] > 0:  # 0: the slot has put it back already
                timer = threading.Timer(REINSERT_STEP * again[0], self._reinsert)
                timer.daemon = True
                timer.start()
        elif name == "insert":
            self._client.insert()

    def _reinsert(self) -> None:
        with self._lock:
            if self._slot is not None and not self._slot.present:
                self._slot.insert()

    # -- wiring ----------------------------------------------------------------------------------

    def _current_plan(self) -> FaultPlan:
        return self._slot.faults if self._slot is not None else self._plan

    def _wire(self) -> Slot | None:
        """The slot in the reader loop while a fault or a trace needs it; the bare card otherwise."""
        needed = bool(self._plan.faults) or self._recorder is not None
        if needed and self._slot is None:
            slot = Slot(self._card)
            slot.add_sink(self)
            if not self._client.inserted:
                slot.remove()
            self._slot = slot
            self._client.card = slot
        elif not needed and self._slot is not None:
            self._unwire()
        return self._slot

    def _unwire(self) -> None:
        slot = self._slot
        if slot is not None:
            self._client.card = self._card
            self._slot = None
            slot.close()
