"""The trace recorder: every exchange of a card (or of a slot around it) as a JSON Lines trace.

    recorder = Recorder("client.trace.jsonl").attach(card)   # or .attach(slot): faults too
    ... the client talks to the card ...
    recorder.close()

The recorder observes; it never changes what the card answers. Attached to a ``Card`` it sees the
card's exchanges and power events; attached to a ``card_emulator.slot.Slot`` it also sees removals,
insertions and the faults applied to each exchange; transports (the pyscard reader, and the served
card's channel) add their own events through the same slot. Each refusal gets the card's reason
and a diagnosis in terms of the trace's own history (``card_emulator.diagnosis``). The format:
``docs/trace-format.md``. PIN data never reaches the file: commands are redacted before writing.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, cast

from card_emulator.diagnosis import History
from card_emulator.trace import (
    Exchange,
    Trace,
    TraceEntry,
    TraceHeader,
    TraceSink,
    decision_of,
)

__all__ = ["Recorder", "card_info", "format_entry"]


class _Observable(Protocol):
    """A ``Card``: exchanges and power events to observe."""

    def add_observer(self, observer: Callable[[Exchange], None]) -> None: ...
    def remove_observer(self, observer: Callable[[Exchange], None]) -> None: ...
    def add_power_observer(self, observer: Callable[[str], None]) -> None: ...
    def remove_power_observer(self, observer: Callable[[str], None]) -> None: ...


class _SinkHost(Protocol):
    """A ``Slot``: it sends its sinks exchanges, events and faults."""

    def add_sink(self, sink: TraceSink) -> None: ...
    def remove_sink(self, sink: TraceSink) -> None: ...


class Recorder:
    """Records a trace in memory, and to ``path`` (or an open text stream) when given.

    ``keep``: how many entries to keep in memory (None: all); the file always gets every entry.
    ``transport`` and ``card`` go into the header. Thread-safe: one lock orders the lines. Use as a
    context manager, or call :meth:`close` (which detaches and closes the file).
    """

    def __init__(
        self,
        path: str | Path | IO[str] | None = None,
        *,
        transport: str = "in-process",
        card: Mapping[str, Any] | None = None,
        faults: Mapping[str, Any] | None = None,
        keep: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.header = TraceHeader(
            started=datetime.now(UTC).isoformat(timespec="microseconds"),
            transport=transport,
            card=dict(card or {}),
            faults=faults,
        )
        self._entries: deque[TraceEntry] = deque(maxlen=keep)
        self._history = History()
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()
        self._count = 0
        self._detach: list[Callable[[], None]] = []
        self._owned = False
        self._stream: IO[str] | None
        if path is None:
            self._stream = None
        elif isinstance(path, str | Path):
            self._stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._stream = path
        self._header_written = False  # written with the first entry, after attach() named the card

    # -- attaching -----------------------------------------------------------------------------

    def attach(self, target: _Observable | _SinkHost) -> Recorder:
        """Observe a ``Card`` or a ``Slot``; returns ``self``. The header names the card when it
        was not given (seed, variant, issuance date, serial, ATR)."""
        card, faults = self.header.card, self.header.faults
        if not card:
            card = card_info(getattr(target, "card", target))
        plan = getattr(target, "faults", None)
        if faults is None and plan is not None and hasattr(plan, "to_json") and plan.faults:
            faults = plan.to_json()
        self.header = TraceHeader(self.header.started, self.header.transport, card, faults)
        if hasattr(target, "add_sink"):
            host = cast(_SinkHost, target)
            host.add_sink(self)
            self._detach.append(lambda: host.remove_sink(self))
        else:
            observed = target
            observed.add_observer(self._card_exchange)
            observed.add_power_observer(self._card_event)
            self._detach.append(lambda: observed.remove_observer(self._card_exchange))
            self._detach.append(lambda: observed.remove_power_observer(self._card_event))
        return self

    def detach(self) -> None:
        """Stop observing everything attached (the trace so far stays)."""
        while self._detach:
            self._detach.pop()()

    def _card_exchange(self, exchange: Exchange) -> None:
        self.on_exchange(exchange)

    def _card_event(self, name: str) -> None:
        self.on_event(name)

    # -- the sink ------------------------------------------------------------------------------

    def on_exchange(
        self,
        exchange: Exchange,
        *,
        response: bytes | None = None,
        faults: Sequence[Mapping[str, Any]] = (),
        error: str | None = None,
    ) -> None:
        """Record one exchange. ``response``: what the client received when a fault changed the
        card's answer (None: the card's answer). ``faults``: the faults applied to it. ``error``:
        ``removed`` or ``torn`` when the client received nothing."""
        received: bytes | None
        if error is not None:
            received = None
        else:
            received = exchange.response if response is None else response
        forced = next((_describe(f) for f in faults if f.get("fault") == "force_status"), None)
        with self._lock:
            self._count += 1
            n = self._count
            if error is not None:
                self._history.exchanges = n
                diagnosis: str | None = _error_diagnosis(error)
            else:
                diagnosis = self._history.exchange(n, exchange, forced=forced)
            sw = None if received is None or len(received) < 2 else received[-2:].hex().upper()
            decision = (
                "none"
                if received is None
                else decision_of(int(sw, 16), exchange.action)
                if sw
                else "error"
            )
            entry = TraceEntry(
                event="exchange",
                t=self._now(),
                n=n,
                command=exchange.redacted(),
                response=None if received is None else received.hex().upper(),
                sw=sw,
                app=exchange.app.value if exchange.app else None,
                ef=f"{exchange.fid:04X}" if exchange.fid is not None else None,
                pin=exchange.pin.value if exchange.pin else None,
                tries_left=exchange.tries_left,
                action=exchange.action,
                decision=decision,
                reason=exchange.reason or None,
                diagnosis=diagnosis,
                faults=tuple(dict(f) for f in faults),
                card_response=(
                    exchange.response.hex().upper()
                    if received != exchange.response and exchange.response
                    else None
                ),
                error=error,
            )
            self._append(entry)

    def on_event(
        self, name: str, *, faults: Sequence[Mapping[str, Any]] = (), **detail: Any
    ) -> None:
        """Record an event between exchanges (``card_emulator.trace.EVENTS``)."""
        with self._lock:
            self._history.event(name)
            entry = TraceEntry(
                event=name, t=self._now(), faults=tuple(dict(f) for f in faults), detail=detail
            )
            self._append(entry)

    def note(self, text: str) -> None:
        """A free-text line in the trace (``event: note``), e.g. the step a test is at."""
        self.on_event("note", text=text)

    # -- results -------------------------------------------------------------------------------

    @property
    def entries(self) -> list[TraceEntry]:
        """The entries kept in memory, oldest first."""
        with self._lock:
            return list(self._entries)

    @property
    def count(self) -> int:
        """Exchanges recorded so far (also those no longer kept in memory)."""
        return self._count

    def trace(self) -> Trace:
        """The trace kept in memory (the header and up to ``keep`` entries)."""
        return Trace(self.header, tuple(self.entries))

    def save(self, path: str | Path) -> Path:
        """Write the in-memory trace to ``path`` as JSON Lines; returns the path."""
        self.trace().write(path)
        return Path(path)

    def close(self) -> None:
        """Detach, and close the file if the recorder opened it."""
        self.detach()
        with self._lock:
            if self._stream is not None:
                self._write_header()
                self._stream.flush()
                if self._owned:
                    self._stream.close()
                self._stream = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _now(self) -> float:
        return round(self._clock() - self._start, 6)

    def _append(self, entry: TraceEntry) -> None:
        self._entries.append(entry)
        if self._stream is not None:
            self._write(entry.line())

    def _write_header(self) -> None:
        if not self._header_written and self._stream is not None:
            self._header_written = True
            self._stream.write(next(Trace(self.header, ()).lines()) + "\n")

    def _write(self, line: str) -> None:
        assert self._stream is not None
        self._write_header()
        self._stream.write(line + "\n")
        self._stream.flush()


def _describe(fault: Mapping[str, Any]) -> str:
    details = ", ".join(
        f"{k} {v}" for k, v in fault.items() if k != "fault" and v not in ("", None)
    )
    return f"the fault {fault['fault']} ({details})" if details else f"the fault {fault['fault']}"


def _error_diagnosis(error: str) -> str:
    if error == "torn":
        return (
            "power was lost right after the PIN counter was written: the try is spent, the "
            "answer never came (anti-tearing, as a real card)"
        )
    return "the card was not in the reader: no answer"


def card_info(card: object) -> dict[str, Any]:
    """The header's card object: seed, variant, issued, serial, ATR and the (synthetic) holder's
    fields of a ``Card``, enough to make the same card again for a replay (else {})."""
    issuer = getattr(card, "issuer", None)
    if issuer is None:
        return {}
    try:
        meta = issuer.meta()
        info: dict[str, Any] = {
            k: str(meta[k]) for k in ("seed", "variant", "issued", "serial", "atr") if k in meta
        }
        if "holder" in meta:
            info["holder"] = json.loads(meta["holder"])
    except Exception:  # a closed or foreign card: the header just stays without it
        return {}
    return info


def _text(value: Any) -> str:
    """A detail value as the trace file writes it: strings bare, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def format_entry(entry: TraceEntry, *, width: int = 40) -> str:
    """One trace entry as one or two lines of text (the failure report, ``mynacard trace show``).

    ``#3  0020008004<4 bytes redacted> -> 63C2  verify user_auth (2 left)  refused: wrong value``
    with the diagnosis on a second, indented line. PIN data is already redacted in the entry.
    """
    if not entry.is_exchange:
        detail = " ".join(f"{k}={_text(v)}" for k, v in entry.detail.items())
        faults = _faults_text(entry.faults)
        return f"    -- {entry.event}{' ' + detail if detail else ''}{faults}"
    command = entry.command or ""
    if len(command) > width:
        command = command[: width - 1] + "…"
    answer = entry.sw or ("no answer" if entry.error else f"'{entry.response}' (no SW)")
    if entry.error:
        answer = f"{answer} ({entry.error})"
    what = entry.action or ""
    if entry.pin:
        tries = f" ({entry.tries_left} left)" if entry.tries_left is not None else ""
        what += f" {entry.pin}{tries}"
    elif entry.ef and entry.app:
        what += f" {entry.app}/{entry.ef}"
    head = f"#{entry.n:<3} {command:<{width}} -> {answer:<6} {what}"
    if entry.decision not in (None, "accepted") and entry.reason:
        head += f"  {entry.decision}: {entry.reason}"
    head += _faults_text(entry.faults)
    if entry.diagnosis:
        head += f"\n       why: {entry.diagnosis}"
    return head


def _faults_text(faults: Sequence[Mapping[str, Any]]) -> str:
    if not faults:
        return ""
    return "  [fault: " + ", ".join(str(f.get("fault")) for f in faults) + "]"
