"""Replay a trace against a card and show the first divergence as one readable diff.

A trace recorded from a client (``card_emulator.recorder.Recorder``) becomes a regression test::

    def test_my_client_still_reads_the_card():
        assert_replays("tests/traces/read_certificate.jsonl")

:func:`replay` sends the trace's commands, in order, to a card made from the trace's header (the
same seed, variant, issuance date and holder) or to the card given, re-enacting its events (power,
removal, fault plans) through a ``Slot``, and compares each answer with the recorded one: the
response bytes, the status word, the PIN's tries left, the application and EF. The first
difference stops it (:class:`Divergence`).

PINs are never in a trace. Where the recorded VERIFY succeeded the replay sends the replay card's
own value of that PIN; where it failed, a wrong value of the same length; a recorded CHANGE gets a
new valid value that later VERIFYs then use. Answers that are random on the card (GET CHALLENGE,
RSASSA-PSS signatures, P1 04/05: card-interface.md §2.6–§2.7) are compared by status word and
length only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from card_emulator.card import DEFAULT_ATR, Card
from card_emulator.faults import FaultPlan, fault_from_json
from card_emulator.recorder import Recorder, format_entry
from card_emulator.rules import PIN_SPECS, PinName
from card_emulator.slot import CardRemovedError, Slot
from card_emulator.trace import (
    Trace,
    TraceEntry,
    TraceFormatError,
    TraceHeader,
    read_trace,
    split_redacted,
)

__all__ = ["Divergence", "ReplayResult", "assert_replays", "card_for", "diff_traces", "replay"]

_COMPARED = ("error", "sw", "response", "tries_left", "app", "ef")


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first exchange where two runs differ. ``str()`` is the readable diff."""

    n: int | None  # the exchange number (None: one trace has fewer exchanges)
    line: int  # the line of the expected trace (the header is line 1)
    expected: TraceEntry | None
    actual: TraceEntry | None
    fields: tuple[str, ...]  # the fields that differ
    before: TraceEntry | None = None  # the exchange before, for context
    labels: tuple[str, str] = ("recorded", "replayed")

    def __str__(self) -> str:
        a, b = self.labels
        ref = self.expected or self.actual
        where = f"exchange {self.n}" if self.n is not None else "the end"
        lines = [f"first divergence at {where} (line {self.line} of the {a} trace)"]
        if ref is not None:
            lines.append(f"  command   {ref.command}  ({ref.action})")
        lines.append(f"- {a:<9} {_answer(self.expected)}")
        lines.append(f"+ {b:<9} {_answer(self.actual)}")
        if self.fields:
            lines.append(f"  differ: {', '.join(self.fields)}")
        if self.before is not None:
            lines.append(f"  before:  {format_entry(self.before).splitlines()[0].strip()}")
        return "\n".join(lines)


def _answer(entry: TraceEntry | None) -> str:
    if entry is None:
        return "(no such exchange: the trace ends before)"
    if entry.error:
        return f"no answer ({entry.error})"
    data = (len(entry.response or "") // 2) - 2
    text = f"{entry.sw}"
    if data > 0:
        text += f" with {data} bytes of data"
    state = []
    if entry.pin is not None:
        state.append(f"{entry.pin} {entry.tries_left} left")
    if entry.app is not None:
        state.append(f"{entry.app}{'/' + entry.ef if entry.ef else ''}")
    if state:
        text += f"  [{'; '.join(state)}]"
    if entry.decision not in (None, "accepted") and entry.reason:
        text += f"  {entry.decision}: {entry.reason}"
    return text


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay found: ``divergence`` None when every exchange matched."""

    exchanges: int  # exchanges replayed (up to and including a divergent one)
    divergence: Divergence | None
    replayed: Trace = field(repr=False)  # the replay's own trace

    @property
    def ok(self) -> bool:
        """True when every replayed exchange matched the trace (no ``divergence``)."""
        return self.divergence is None


def card_for(header: TraceHeader) -> Card:
    """The card a trace was recorded on, made again from its header (seed, variant, issued, ATR,
    holder). ``TraceFormatError`` when the header does not name a card."""
    info = header.card
    if "seed" not in info:
        raise TraceFormatError("the trace's header names no card (no seed): give the card to use")
    holder: dict[str, Any] = dict(info.get("holder") or {})
    holder.pop("issued", None)  # the persona's issuance follows from issued and the variant
    for key in ("birth_date", "card_expiry"):
        if isinstance(holder.get(key), str):
            holder[key] = date.fromisoformat(holder[key])
    try:
        return Card.create(
            None,
            seed=int(info["seed"]),
            variant=info.get("variant", "standard"),
            issued=date.fromisoformat(info["issued"]) if info.get("issued") else None,
            atr=bytes.fromhex(info["atr"]) if info.get("atr") else DEFAULT_ATR,
            **holder,
        )
    except (TypeError, ValueError) as error:
        raise TraceFormatError(f"the trace's card cannot be made again: {error}") from None


def replay(
    trace: Trace | str | Path,
    card: Card | None = None,
    *,
    pins: Mapping[str, str] | None = None,
) -> ReplayResult:
    """Replay ``trace`` (a ``Trace`` or a path) against ``card`` (None: :func:`card_for` the
    header's card, closed afterwards). ``pins``: PIN values by name where the card's
    ``created_pins`` are unknown (a card opened from a file). ``TraceFormatError`` for a bad file."""
    recorded = trace if isinstance(trace, Trace) else read_trace(trace)
    own = card is None
    target = card_for(recorded.header) if card is None else card
    plan = FaultPlan.from_json(recorded.header.faults) if recorded.header.faults else None
    slot = Slot(target, plan, sleep=lambda _seconds: None)
    recorder = Recorder(transport="replay").attach(slot)
    values = {PinName(k): v for k, v in (target.created_pins or {}).items()}
    values.update({PinName(k): v for k, v in (pins or {}).items()})
    count = 0
    previous: TraceEntry | None = None
    try:
        for line, entry in enumerate(recorded.entries, start=2):
            if not entry.is_exchange:
                _apply_event(entry, slot)
                continue
            count += 1
            with suppress(CardRemovedError):  # the trace says whether the card answered
                slot.transmit(_command(entry, values))
            got = _last_exchange(recorder)
            differ = _differences(entry, got)
            if differ:
                divergence = Divergence(entry.n, line, entry, got, differ, previous)
                return ReplayResult(count, divergence, recorder.trace())
            previous = entry
        return ReplayResult(count, None, recorder.trace())
    finally:
        recorder.close()
        slot.close()
        if own:
            target.close()


def assert_replays(
    trace: Trace | str | Path, card: Card | None = None, *, pins: Mapping[str, str] | None = None
) -> ReplayResult:
    """:func:`replay`, raising ``AssertionError`` with the readable diff at a divergence."""
    result = replay(trace, card, pins=pins)
    if result.divergence is not None:
        raise AssertionError(str(result.divergence))
    return result


def diff_traces(a: Trace | str | Path, b: Trace | str | Path) -> Divergence | None:
    """The first exchange where two traces differ (same fields as a replay), None if none does."""
    first = a if isinstance(a, Trace) else read_trace(a)
    second = b if isinstance(b, Trace) else read_trace(b)
    previous: TraceEntry | None = None
    lines = _exchange_lines(first)
    other = list(second.exchanges())
    for index, (line, entry) in enumerate(lines):
        got = other[index] if index < len(other) else None
        differ = _differences(entry, got)
        if differ:
            return Divergence(entry.n, line, entry, got, differ, previous, ("A", "B"))
        previous = entry
    if len(other) > len(lines):
        extra = other[len(lines)]
        return Divergence(
            extra.n, len(first.entries) + 2, None, extra, ("count",), previous, ("A", "B")
        )
    return None


# -- internals ---------------------------------------------------------------------------------


def _exchange_lines(trace: Trace) -> list[tuple[int, TraceEntry]]:
    return [(i, e) for i, e in enumerate(trace.entries, start=2) if e.is_exchange]


def _last_exchange(recorder: Recorder) -> TraceEntry | None:
    return next((e for e in reversed(recorder.entries) if e.is_exchange), None)


def _random_answer(entry: TraceEntry) -> bool:
    """GET CHALLENGE and PSS signatures differ on every run (card-interface.md §2.6–§2.7)."""
    command = entry.command or ""
    return command[2:4] == "84" or (command[2:4] == "2A" and command[4:6] in ("04", "05"))


def _differences(expected: TraceEntry, actual: TraceEntry | None) -> tuple[str, ...]:
    if actual is None:
        return ("count",)
    differ = []
    for name in _COMPARED:
        a, b = getattr(expected, name), getattr(actual, name)
        if name == "response" and _random_answer(expected) and a and b:
            a, b = len(a), len(b)
        if a != b:
            differ.append(name)
    return tuple(differ)


def _apply_event(entry: TraceEntry, slot: Slot) -> None:
    """Re-enact an event; those a fault caused happen again by themselves in the replay's slot."""
    if entry.faults or entry.detail.get("automatic"):
        return
    name = entry.event
    if name == "faults" and "added" in entry.detail:  # the others keep their counts
        slot.add_fault(fault_from_json(entry.detail["added"]))
    elif name == "faults":
        slot.set_faults(FaultPlan.from_json(entry.detail.get("plan") or {"faults": []}))
    elif name == "remove":
        slot.remove()
    elif name == "insert":
        slot.insert()
    elif slot.present and name == "power_on":
        slot.card.power_on()
    elif slot.present and name == "power_off":
        slot.card.power_off()
    elif slot.present and name == "reset":
        slot.card.reset()


def _command(entry: TraceEntry, values: dict[PinName, str]) -> bytes:
    """The bytes to send for a recorded command, with a PIN value where it was redacted."""
    prefix, secret, suffix = split_redacted(entry.command or "")
    if secret is None:
        return prefix
    pin = PinName(entry.pin) if entry.pin in {p.value for p in PinName} else None
    accepted = entry.sw == "9000"
    if pin is None:
        value = b"0" * secret
    elif entry.action == "change":
        new = _new_value(pin, secret) if accepted else _invalid_value(pin, secret)
        if accepted:
            values[pin] = new
        value = new.encode("ascii")
    elif accepted:
        if pin not in values:
            raise ValueError(
                f"the replay needs the value of {pin.value} (the card was not created here): "
                f"pass pins={{'{pin.value}': ...}} (mynacard trace replay: --pin {pin.value})"
            )
        value = values[pin].encode("ascii")
    else:
        value = _wrong_value(values.get(pin, ""), secret).encode("ascii")
    header = prefix[:4]
    if len(prefix) == 7:  # extended Lc: 00 hh ll
        return header + b"\x00" + len(value).to_bytes(2, "big") + value + suffix
    return header + bytes([len(value)]) + value + suffix


def _wrong_value(right: str, length: int) -> str:
    for digit in "0123456789":
        candidate = digit * length
        if candidate != right:
            return candidate
    return "A" * length


def _new_value(pin: PinName, length: int) -> str:
    fmt = PIN_SPECS[pin].format
    size = min(max(length, fmt.min_length), fmt.max_length)
    for candidate in _candidates(size):
        if fmt.accepts(candidate):
            return candidate
    raise TraceFormatError(f"no replacement value for {pin.value}")


def _candidates(size: int) -> Iterator[str]:
    yield ("2468013579" * 2)[:size]
    yield ("R" + "2468013579" * 2)[:size]


def _invalid_value(pin: PinName, length: int) -> str:
    candidate = "a" * length
    return candidate if not PIN_SPECS[pin].format.accepts(candidate) else "!" * length
