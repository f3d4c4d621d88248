"""What the card tells observers about each exchange, and the trace format that records them.

``Exchange`` is the card's own account of one command (``Card.add_observer``). A *trace* is a JSON
Lines file of such exchanges as a client lived them, with the power events between them and the
faults the test equipment applied; ``docs/trace-format.md`` is its specification (version
``TRACE_VERSION``). The recorder that writes traces is ``card_emulator.recorder``; replaying one
against a card is ``card_emulator.testing.replay``.

No trace ever holds a PIN: a command that carries one (VERIFY, CHANGE REFERENCE DATA, RESET RETRY
COUNTER, CHANGE KEY) is written with its data field replaced by ``<N bytes redacted>``
(``apdu.redact_command``), and :func:`read_trace` refuses a file where such a command is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from apdu.command import carries_secret
from apdu.notation import redact_command
from card_emulator.errors import EmulatorError
from card_emulator.rules import AppName, PinName

__all__ = [
    "EVENTS",
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "Exchange",
    "Trace",
    "TraceEntry",
    "TraceFormatError",
    "TraceHeader",
    "TraceSink",
    "decision_of",
    "read_trace",
    "split_redacted",
]

TRACE_FORMAT = "mynumber-card-emulator trace"
TRACE_VERSION = 1
# Events a trace line may carry besides "exchange" (docs/trace-format.md §3).
EVENTS = frozenset(
    {
        "power_on",  # the card: powered (a reader connected, or a command woke it)
        "power_off",  # the card: unpowered (pyscard's disconnect does it)
        "reset",  # the card: warm reset
        "remove",  # the slot: card pulled out (a fault, or a test's own remove())
        "insert",  # the slot: card put back
        "faults",  # the slot: the fault plan changed; detail = the new plan
        "connect",  # a transport: a client connected (detail: mode, protocol)
        "disconnect",  # a transport: a client disconnected (detail: disposition)
        "reconnect",  # a transport: a client reconnected (detail: disposition)
        "note",  # free text from the test (detail: text)
    }
)
_REDACTED = re.compile(r"<(\d+) bytes redacted>")
_HEX = re.compile(r"(?:[0-9A-F]{2})*")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command and the card's answer, with the card's reading of it.

    ``command`` holds the raw bytes (a PIN among them for VERIFY and CHANGE): print ``redacted()``.
    """

    command: bytes
    response: bytes
    sw: int
    app: AppName | None  # the application selected after the command
    fid: int | None  # the current EF after the command
    pin: PinName | None  # the PIN the command verified, changed or queried, or the one it lacked
    tries_left: int | None  # that PIN's remaining tries after the command
    action: str  # select_app, select_ef, read_binary, read_record, verify, query, change, sign, ...
    reason: str  # why the card refused, "" on success

    def redacted(self) -> str:
        """The command in hex with any PIN data replaced by ``<n bytes redacted>``
        (``apdu.redact_command``)."""
        return redact_command(self.command)

    def __repr__(self) -> str:
        return (
            f"Exchange({self.redacted()} -> {self.sw:04X}, app={self.app}, fid={self.fid}, "
            f"pin={self.pin}, tries_left={self.tries_left}, action={self.action!r})"
        )


def decision_of(sw: int, action: str) -> str:
    """``"accepted"`` (9000, 61xx, or 63Cx answering a tries query), ``"error"`` (6Fxx, 64xx,
    65xx: the card failed) or ``"refused"`` (every other status word; ISO 7816-4 §5.6)."""
    if sw == 0x9000 or sw >> 8 == 0x61 or (action == "query" and sw >> 4 == 0x63C):
        return "accepted"
    if sw >> 8 in (0x6F, 0x64, 0x65):
        return "error"
    return "refused"


class TraceSink(Protocol):
    """Where a card's exchanges and events go (``card_emulator.recorder.Recorder``).

    ``response`` is what the client received when a fault changed the card's answer (None: the
    card's own answer); ``error`` (``removed``, ``torn``) says the client received nothing;
    ``faults`` lists the faults applied to this exchange as JSON objects (docs/fault-plan.md).
    """

    def on_exchange(
        self,
        exchange: Exchange,
        *,
        response: bytes | None = None,
        faults: Sequence[Mapping[str, Any]] = (),
        error: str | None = None,
    ) -> None:
        """One exchange, as the card saw it (``exchange``) and as the client received it."""
        ...

    def on_event(
        self, name: str, *, faults: Sequence[Mapping[str, Any]] = (), **detail: Any
    ) -> None:
        """An event: ``insert``, ``remove``, ``power_on``, ``faults``, a transport's ``connect``...
        with the faults that caused it and its ``detail`` (docs/trace-format.md)."""
        ...


class TraceFormatError(EmulatorError):
    """A trace file that is not a readable trace of a supported version (the line is named)."""


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """The first line of a trace: what made it and on which card (docs/trace-format.md §1)."""

    started: str  # ISO 8601 date-time, UTC
    transport: str = "in-process"  # in-process, pyscard, vpcd, ...
    card: Mapping[str, Any] = field(
        default_factory=dict
    )  # seed, variant, issued, serial, atr, holder
    faults: Mapping[str, Any] | None = None  # the fault plan in force at the start, if any
    version: int = TRACE_VERSION

    def to_json(self) -> dict[str, Any]:
        """The header line's JSON object: format, version, start time, transport, the card (seed,
        variant, holder), the fault plan."""
        return {
            "format": TRACE_FORMAT,
            "version": self.version,
            "started": self.started,
            "transport": self.transport,
            "card": dict(self.card),
            "faults": self.faults,
        }


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One line after the header: an exchange (``event == "exchange"``) or an event.

    Exchange fields (hex upper case; None where the card gave nothing): ``n`` counts exchanges from
    1; ``t`` is seconds since the trace started; ``command`` is redacted; ``response`` is what the
    client received (data + SW); ``card_response`` what the card answered when a fault changed it.
    """

    event: str
    t: float
    n: int | None = None
    command: str | None = None
    response: str | None = None
    sw: str | None = None
    app: str | None = None
    ef: str | None = None
    pin: str | None = None
    tries_left: int | None = None
    action: str | None = None
    decision: str | None = None
    reason: str | None = None
    diagnosis: str | None = None
    faults: tuple[Mapping[str, Any], ...] = ()
    card_response: str | None = None
    error: str | None = (
        None  # "removed": no answer, the card was out; "torn": power lost mid-command
    )
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_exchange(self) -> bool:
        """True for an exchange line (a command and its answer), False for an event line."""
        return self.event == "exchange"

    @property
    def sw_value(self) -> int | None:
        """The status word as an int (``0x9000``); None for an event or a command with no answer
        (the card was out, or power was lost)."""
        return int(self.sw, 16) if self.sw else None

    def to_json(self) -> dict[str, Any]:
        """The entry as its JSON object (docs/trace-format.md): an event's ``event``, ``t``, faults
        and detail, or an exchange's fields, PIN data redacted."""
        if not self.is_exchange:
            out: dict[str, Any] = {"event": self.event, "t": self.t}
            if self.faults:
                out["faults"] = [dict(f) for f in self.faults]
            if self.detail:
                out["detail"] = dict(self.detail)
            return out
        out = {
            "event": "exchange",
            "n": self.n,
            "t": self.t,
            "command": self.command,
            "response": self.response,
            "sw": self.sw,
            "app": self.app,
            "ef": self.ef,
            "pin": self.pin,
            "tries_left": self.tries_left,
            "action": self.action,
            "decision": self.decision,
            "reason": self.reason,
            "diagnosis": self.diagnosis,
            "faults": [dict(f) for f in self.faults],
        }
        if self.card_response is not None:
            out["card_response"] = self.card_response
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TraceEntry:
        """Raises KeyError/TypeError/ValueError on a malformed object (``read_trace`` says where)."""
        event = data["event"]
        if not isinstance(event, str) or (event != "exchange" and event not in EVENTS):
            raise ValueError(f"unknown event {event!r}")
        faults = tuple(data.get("faults") or ())
        if not all(isinstance(f, Mapping) and "fault" in f for f in faults):
            raise ValueError("faults must be objects with a 'fault' key")
        t = float(data["t"])
        if event != "exchange":
            detail = data.get("detail") or {}
            if not isinstance(detail, Mapping):
                raise ValueError("detail must be an object")
            return cls(event=event, t=t, faults=faults, detail=detail)
        command = data["command"]
        if not isinstance(command, str):
            raise TypeError("command must be a string")
        prefix, secret, _ = split_redacted(command)
        # A VERIFY or CHANGE with its data in the clear is never accepted.
        if secret is None and len(prefix) > 5 and carries_secret(prefix[0], prefix[1]):
            raise ValueError("a command that carries a PIN is not redacted")
        for key in ("response", "card_response", "sw"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or not _HEX.fullmatch(value)):
                raise ValueError(f"{key} must be upper-case hex")
        n = data["n"]
        tries = data.get("tries_left")
        if not isinstance(n, int) or (tries is not None and not isinstance(tries, int)):
            raise TypeError("n and tries_left must be integers")
        return cls(
            event=event,
            t=t,
            n=n,
            command=command,
            response=data.get("response"),
            sw=data.get("sw"),
            app=data.get("app"),
            ef=data.get("ef"),
            pin=data.get("pin"),
            tries_left=tries,
            action=data.get("action"),
            decision=data.get("decision"),
            reason=data.get("reason"),
            diagnosis=data.get("diagnosis"),
            faults=faults,
            card_response=data.get("card_response"),
            error=data.get("error"),
        )

    def line(self) -> str:
        """One JSON Lines line (no newline), UTF-8 text as is."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))


def split_redacted(command: str) -> tuple[bytes, int | None, bytes]:
    """A trace's command text as (bytes before the PIN, PIN length or None, bytes after it).

    ``"0020008004<4 bytes redacted>"`` → ``(b"\\x00\\x20\\x00\\x80\\x04", 4, b"")``. ValueError when the
    text is neither hex nor hex with one redaction.
    """
    match = _REDACTED.search(command)
    if match is None:
        if not _HEX.fullmatch(command):
            raise ValueError(f"command is not upper-case hex: {command[:40]!r}")
        return bytes.fromhex(command), None, b""
    before, after = command[: match.start()], command[match.end() :]
    if not _HEX.fullmatch(before) or not _HEX.fullmatch(after):
        raise ValueError("command is not hex around its redaction")
    return bytes.fromhex(before), int(match.group(1)), bytes.fromhex(after)


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole trace: the header and every entry in order."""

    header: TraceHeader
    entries: tuple[TraceEntry, ...]

    def exchanges(self) -> Iterator[TraceEntry]:
        """The trace's exchange entries, in order (events left out)."""
        return (entry for entry in self.entries if entry.is_exchange)

    def lines(self) -> Iterator[str]:
        """The trace as JSON Lines text: the header, then one line per entry (docs/trace-format.md)."""
        yield json.dumps(self.header.to_json(), ensure_ascii=False, separators=(",", ":"))
        for entry in self.entries:
            yield entry.line()

    def write(self, path: str | Path) -> None:
        """Write the trace as JSON Lines (UTF-8), replacing ``path``."""
        Path(path).write_text("".join(line + "\n" for line in self.lines()), encoding="utf-8")


def read_trace(source: str | Path | Iterable[str]) -> Trace:
    """Read a trace from a path or from lines. ``TraceFormatError`` names the first bad line.

    Versions newer than ``TRACE_VERSION`` are refused: their fields may mean something else.
    """
    if isinstance(source, str | Path):
        name = str(source)
        try:
            lines: Iterable[str] = Path(source).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise TraceFormatError(f"{name}: cannot read the trace ({error})") from None
    else:
        name, lines = "trace", source
    header: TraceHeader | None = None
    entries: list[TraceEntry] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("a line must be a JSON object")
            if header is None:
                header = _header(data)
            else:
                entries.append(TraceEntry.from_json(data))
        except TraceFormatError as error:
            raise TraceFormatError(f"{name}, line {number}: {error}") from None
        except (ValueError, KeyError, TypeError) as error:
            kind = "missing field" if isinstance(error, KeyError) else "bad line"
            raise TraceFormatError(f"{name}, line {number}: {kind}: {error}") from None
    if header is None:
        raise TraceFormatError(f"{name}: empty, not a trace")
    return Trace(header, tuple(entries))


def _header(data: Mapping[str, Any]) -> TraceHeader:
    if data.get("format") != TRACE_FORMAT:
        raise TraceFormatError(f"not a trace (the first line's format is not {TRACE_FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or not 1 <= version <= TRACE_VERSION:
        raise TraceFormatError(
            f"trace format version {version!r} is not supported (this reader: 1–{TRACE_VERSION})"
        )
    card = data.get("card") or {}
    faults = data.get("faults")
    if not isinstance(card, Mapping) or not (faults is None or isinstance(faults, Mapping)):
        raise ValueError("card and faults must be objects")
    return TraceHeader(
        started=str(data.get("started", "")),
        transport=str(data.get("transport", "in-process")),
        card={str(k): v for k, v in card.items()},
        faults=faults,
        version=version,
    )
