"""A fault plan in use: which faults are armed, how often each may still fire, which one a command
meets (``card_emulator.slot.Slot`` holds one; the faults themselves are data, ``faults``).

A fault fires at most ``times`` times (``None``: every time; :class:`~card_emulator.faults.Latency`
always applies), counts the exchanges since it was armed (``RemoveCard(after=N)``) and describes
itself for the trace with its position in the plan (``docs/fault-plan.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from card_emulator.faults import Fault, FaultPlan, Latency, RemoveCard, matches

__all__ = ["ArmedFault", "ArmedPlan"]


@dataclass(slots=True)
class ArmedFault:
    """One fault of a plan, armed: ``index`` is its position in the plan (the trace's ``rule``)."""

    fault: Fault
    index: int
    remaining: int | None  # how many more times it may fire (None: always)
    seen: int = 0  # exchanges since it was armed (RemoveCard.after)

    @classmethod
    def arm(cls, fault: Fault, index: int) -> ArmedFault:
        """``fault`` ready to fire its ``times`` (once when it has none; a latency always)."""
        times = None if isinstance(fault, Latency) else getattr(fault, "times", 1)
        return cls(fault, index, times)

    def describe(self, **extra: Any) -> dict[str, Any]:
        """The fault as the trace lists it: its JSON, ``rule`` = its index, and ``extra``."""
        return {**self.fault.to_json(), "rule": self.index, **extra}

    def fire(self) -> dict[str, Any]:
        """Count one firing; its description for the trace."""
        if self.remaining is not None:
            self.remaining -= 1
        return self.describe()


class ArmedPlan:
    """A :class:`~card_emulator.faults.FaultPlan` with every fault armed (counts start afresh)."""

    def __init__(self, faults: FaultPlan | Iterable[Fault] | None = None) -> None:
        self.plan = FaultPlan.of(faults)
        self.armed = [ArmedFault.arm(fault, i) for i, fault in enumerate(self.plan.faults)]

    def add(self, fault: Fault) -> None:
        """Arm one more fault at the end of the plan, the others kept as they are."""
        self.plan = FaultPlan((*self.plan.faults, fault))
        self.armed.append(ArmedFault.arm(fault, len(self.plan.faults) - 1))

    def count_exchange(self) -> None:
        """One more exchange reached the slot (``RemoveCard(after=N)`` counts them)."""
        for armed in self.armed:
            armed.seen += 1

    def first(self, kind: type[Fault], apdu: bytes) -> ArmedFault | None:
        """The first armed fault of ``kind`` that may still fire and whose pattern matches."""
        for armed in self.armed:
            fault = armed.fault
            if not isinstance(fault, kind) or armed.remaining == 0:
                continue
            pattern = getattr(fault, "match", "")
            if pattern is None:  # RemoveCard(after=N): not a command pattern
                continue
            if matches(pattern, apdu):
                return armed
        return None

    def removal_due(self) -> ArmedFault | None:
        """A ``RemoveCard(after=N)`` that has seen its N exchanges and may still fire."""
        for armed in self.armed:
            fault = armed.fault
            if (
                isinstance(fault, RemoveCard)
                and fault.after is not None
                and armed.remaining
                and armed.seen >= fault.after
            ):
                return armed
        return None

    def latencies(self) -> Iterator[tuple[ArmedFault, Latency]]:
        """The armed :class:`~card_emulator.faults.Latency` faults, in plan order."""
        for armed in self.armed:
            if isinstance(armed.fault, Latency):
                yield armed, armed.fault
