"""Faults as data: what the test equipment does to a card, independent of how it is reached.

A :class:`FaultPlan` is a list of faults; ``card_emulator.slot.Slot`` applies one around a card
in-process and behind the pyscard reader, and the served card applies the same JSON plan
(``docs/fault-plan.md`` is the specification). Every fault that fires shows in the trace.

* :class:`RemoveCard` — pull the card out after the Nth exchange, or at a command that matches;
  it comes back after a number of failed attempts, or when the test calls ``insert()``.
* :class:`Tear` — power lost right after the PIN counter write of a VERIFY: the try is spent
  (anti-tearing, as a real card), the answer never comes.
* :class:`ForceStatus` — answer a status word (e.g. ``6581`` to a signature) without the card.
* :class:`Latency` — a fixed delay, and/or a per-instruction profile (:data:`LATENCY_PROFILES`).
* :class:`Truncate`, :class:`Corrupt` — damage a response on its way back.

Command patterns (``match``): hex digits of the command's first bytes, ``.`` for any hex digit,
spaces ignored (``"802A"``, ``"00A4040C"``, ``"..20"``), or an instruction name from
:data:`INSTRUCTION_PATTERNS` (``"SIGN"``, ``"VERIFY"``, ...); the empty pattern matches every command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, ClassVar

from card_emulator.errors import EmulatorError
from card_emulator.latency import LATENCY_PROFILES, LatencyProfile, atr_fi_di
from card_emulator.rules import PinName

__all__ = [
    "FAULT_TYPES",
    "INSTRUCTION_PATTERNS",
    "LATENCY_PROFILES",
    "Corrupt",
    "Fault",
    "FaultPlan",
    "FaultPlanError",
    "ForceStatus",
    "Latency",
    "LatencyProfile",
    "RemoveCard",
    "Tear",
    "Truncate",
    "atr_fi_di",
    "fault_from_json",
    "matches",
]

FAULT_PLAN_VERSION = 1

# Instruction names for patterns: CLA class and INS, as the card's dispatch reads them (ISO 7816-4
# §5.4; JPKI's proprietary CLA 80 instructions, card-interface.md §2.6–§2.7).
INSTRUCTION_PATTERNS: dict[str, str] = {
    "SELECT": "..A4",
    "SELECT_APP": "..A404",
    "SELECT_EF": "..A402",
    "READ_BINARY": "..B0",
    "READ_RECORD": "..B2",
    "VERIFY": "..20",
    "CHANGE_REFERENCE_DATA": "..24",
    "CHANGE_KEY": "8.32",
    "SIGN": "8.2A",
    "COMPUTE_DIGITAL_SIGNATURE": "8.2A",
    "GET_CHALLENGE": "..84",
    "GET_DATA": "..CA",
    "GET_RESPONSE": "..C0",
}


class FaultPlanError(EmulatorError, ValueError):
    """A fault or a fault plan that cannot be applied (one line saying which field is wrong)."""


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    name = pattern.strip().upper().replace(" ", "_").replace("-", "_")
    text = INSTRUCTION_PATTERNS.get(name, pattern)
    digits = "".join(text.split()).upper()
    if not re.fullmatch(r"[0-9A-F.]*", digits):
        raise FaultPlanError(
            f"bad command pattern {pattern!r}: hex digits and '.', or one of "
            + ", ".join(sorted(INSTRUCTION_PATTERNS))
        )
    return re.compile(digits)


def matches(pattern: str, command: bytes) -> bool:
    """True when ``command`` starts with what ``pattern`` describes (see the module doc)."""
    return _compile(pattern).match(command.hex().upper()) is not None


def _check_pattern(pattern: str | None) -> None:
    if pattern is not None:
        if not isinstance(pattern, str):
            raise FaultPlanError("match must be a string")
        _compile(pattern)


def _check_count(name: str, value: int | None, *, minimum: int) -> None:
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or value < minimum
    ):
        raise FaultPlanError(f"{name} must be an integer ≥ {minimum} or null, got {value!r}")


@dataclass(frozen=True, slots=True)
class Fault:
    """Base of every fault. ``kind`` is its name in a JSON plan."""

    kind: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        """The fault as a JSON object: ``{"fault": kind, ...fields}`` (bytes and SW as hex)."""
        out: dict[str, Any] = {"fault": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bytes):
                value = value.hex().upper()
            elif f.name == "sw" and isinstance(value, int):
                value = f"{value:04X}"
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class RemoveCard(Fault):
    """Pull the card out after ``after`` exchanges (counted from when the plan was set; the Nth is
    answered), or at the first command matching ``match`` (that command is not answered).

    ``reinsert_after``: the card is back after that many attempts to reach it failed (0: at once,
    before the next attempt); None: it stays out until ``Slot.insert()``. Fires once.
    """

    kind: ClassVar[str] = "remove"
    after: int | None = None
    match: str | None = None
    reinsert_after: int | None = None

    def __post_init__(self) -> None:
        if (self.after is None) == (self.match is None):
            raise FaultPlanError("remove needs exactly one of 'after' and 'match'")
        _check_count("after", self.after, minimum=0)
        _check_pattern(self.match)
        _check_count("reinsert_after", self.reinsert_after, minimum=0)


@dataclass(frozen=True, slots=True)
class Tear(Fault):
    """Lose power right after the next VERIFY of ``pin`` (any PIN when None) has written its
    decremented counter, before the comparison is answered (``CardMemory.verify_pin``).

    The client gets no answer (the card is out); the try is spent, as a real card's anti-tearing
    leaves it. ``reinsert_after`` as for :class:`RemoveCard`. Fires once.
    """

    kind: ClassVar[str] = "tear"
    pin: str | None = None
    reinsert_after: int | None = None

    def __post_init__(self) -> None:
        if self.pin is not None and self.pin not in {p.value for p in PinName}:
            raise FaultPlanError(
                f"tear: unknown pin {self.pin!r} (one of {', '.join(p.value for p in PinName)})"
            )
        _check_count("reinsert_after", self.reinsert_after, minimum=0)


@dataclass(frozen=True, slots=True)
class ForceStatus(Fault):
    """Answer ``data`` + ``sw`` to the next ``times`` commands matching ``match`` (None: every
    one); the card never sees them (e.g. ``6581`` memory failure on a signature, ``6F00``)."""

    kind: ClassVar[str] = "force_status"
    sw: int = 0x6F00
    match: str = ""
    times: int | None = 1
    data: bytes = b""

    def __post_init__(self) -> None:
        if isinstance(self.sw, bool) or not isinstance(self.sw, int) or not 0 <= self.sw <= 0xFFFF:
            raise FaultPlanError(f"force_status: sw must be a 2-byte status word, got {self.sw!r}")
        _check_pattern(self.match)
        _check_count("times", self.times, minimum=1)
        if not isinstance(self.data, bytes):
            raise FaultPlanError("force_status: data must be bytes")


@dataclass(frozen=True, slots=True)
class Latency(Fault):
    """Delay every answer by ``ms`` milliseconds plus, with ``profile``, the profile's time for
    the instruction and the bytes on the wire (:data:`LATENCY_PROFILES`)."""

    kind: ClassVar[str] = "latency"
    ms: float = 0.0
    profile: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.ms, bool) or not isinstance(self.ms, int | float) or self.ms < 0:
            raise FaultPlanError(f"latency: ms must be a number ≥ 0, got {self.ms!r}")
        if self.profile is not None and self.profile not in LATENCY_PROFILES:
            raise FaultPlanError(
                f"latency: unknown profile {self.profile!r} "
                f"(one of {', '.join(sorted(LATENCY_PROFILES))})"
            )

    def delay_ms(self, command: bytes, response: bytes, atr: bytes) -> float:
        """Milliseconds this exchange waits."""
        extra = 0.0
        if self.profile is not None:
            extra = LATENCY_PROFILES[self.profile].delay_ms(command, response, atr)
        return float(self.ms) + extra


@dataclass(frozen=True, slots=True)
class Truncate(Fault):
    """Cut the response to the next ``times`` matching commands to its first ``keep`` bytes."""

    kind: ClassVar[str] = "truncate"
    match: str = ""
    keep: int = 0
    times: int | None = 1

    def __post_init__(self) -> None:
        _check_pattern(self.match)
        _check_count("keep", self.keep, minimum=0)
        _check_count("times", self.times, minimum=1)


@dataclass(frozen=True, slots=True)
class Corrupt(Fault):
    """XOR the response byte at ``offset`` (negative: from the end; -1 is SW2) with ``xor``, for
    the next ``times`` matching commands. Outside the response nothing changes."""

    kind: ClassVar[str] = "corrupt"
    match: str = ""
    offset: int = 0
    xor: int = 0x01
    times: int | None = 1

    def __post_init__(self) -> None:
        _check_pattern(self.match)
        if isinstance(self.offset, bool) or not isinstance(self.offset, int):
            raise FaultPlanError("corrupt: offset must be an integer")
        if isinstance(self.xor, bool) or not isinstance(self.xor, int) or not 1 <= self.xor <= 255:
            raise FaultPlanError("corrupt: xor must be 1–255")
        _check_count("times", self.times, minimum=1)

    def apply(self, response: bytes) -> bytes:
        """``response`` with the byte at ``offset`` (negative: from the end) XORed with ``xor``;
        unchanged when the offset lies outside it."""
        index = self.offset if self.offset >= 0 else len(response) + self.offset
        if not 0 <= index < len(response):
            return response
        damaged = bytearray(response)
        damaged[index] ^= self.xor
        return bytes(damaged)


FAULT_TYPES: dict[str, type[Fault]] = {
    cls.kind: cls for cls in (RemoveCard, Tear, ForceStatus, Latency, Truncate, Corrupt)
}


def fault_from_json(data: Mapping[str, Any]) -> Fault:
    """A fault from its JSON object. ``FaultPlanError`` for an unknown kind or field."""
    if not isinstance(data, Mapping) or "fault" not in data:
        raise FaultPlanError("a fault is an object with a 'fault' key")
    kind = data["fault"]
    cls = FAULT_TYPES.get(kind)
    if cls is None:
        raise FaultPlanError(f"unknown fault {kind!r} (one of {', '.join(sorted(FAULT_TYPES))})")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known - {"fault"}
    if unknown:
        raise FaultPlanError(f"{kind}: unknown field(s) {', '.join(sorted(unknown))}")
    values = {k: v for k, v in data.items() if k != "fault"}
    try:
        if "sw" in values and isinstance(values["sw"], str):
            values["sw"] = int(values["sw"], 16)
        if "data" in values and isinstance(values["data"], str):
            values["data"] = bytes.fromhex(values["data"])
    except ValueError:
        raise FaultPlanError(f"{kind}: sw and data are hex strings") from None
    try:
        return cls(**values)
    except TypeError as error:
        raise FaultPlanError(f"{kind}: {error}") from None


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """An ordered list of faults (docs/fault-plan.md). Immutable; JSON with :meth:`to_json`."""

    faults: tuple[Fault, ...] = ()

    @classmethod
    def of(cls, faults: FaultPlan | Iterable[Fault] | None) -> FaultPlan:
        """A plan from a plan (as it is), faults in order, or None (no fault). ``FaultPlanError``
        for anything that is not a ``Fault``."""
        if faults is None:
            return cls()
        if isinstance(faults, FaultPlan):
            return faults
        plan = tuple(faults)
        if not all(isinstance(f, Fault) for f in plan):
            raise FaultPlanError("a fault plan holds Fault objects")
        return cls(plan)

    def to_json(self) -> dict[str, Any]:
        """``{"version": 1, "faults": [...]}``, each fault as ``Fault.to_json``
        (docs/fault-plan.md)."""
        return {"version": FAULT_PLAN_VERSION, "faults": [f.to_json() for f in self.faults]}

    def dumps(self) -> str:
        """The plan as compact JSON text (:meth:`to_json`)."""
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultPlan:
        """A plan from its JSON object; ``FaultPlanError`` names what is wrong."""
        if not isinstance(data, Mapping) or not isinstance(data.get("faults"), list):
            raise FaultPlanError("a fault plan is an object with a 'faults' list")
        version = data.get("version", FAULT_PLAN_VERSION)
        if version != FAULT_PLAN_VERSION:
            raise FaultPlanError(f"fault plan version {version!r} is not supported (1)")
        return cls(tuple(fault_from_json(f) for f in data["faults"]))

    @classmethod
    def loads(cls, text: str) -> FaultPlan:
        """A plan from JSON text (docs/fault-plan.md); ``FaultPlanError`` for text that is not JSON
        or not a plan."""
        try:
            return cls.from_json(json.loads(text))
        except json.JSONDecodeError as error:
            raise FaultPlanError(f"a fault plan is JSON: {error}") from None
