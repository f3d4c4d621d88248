"""The trace format (docs/trace-format.md): what a recorder writes, what a reader accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from card_emulator import AppName, Card, PinName
from card_emulator.testing import Recorder, query, read_trace, select_app, sign, verify
from card_emulator.trace import TRACE_VERSION, TraceFormatError, split_redacted


def _record(card: Card, path: Path) -> None:
    pins = card.created_pins or {}
    with Recorder(path).attach(card):
        verify(card, PinName.USER_AUTH, pins[PinName.USER_AUTH])
        select_app(card, AppName.JPKI)
        sign(card, 0x0017, b"\x30" * 35)  # refused: the SELECT cleared the PIN
        verify(card, PinName.SIGNING, "WRONG1")
        query(card, PinName.SIGNING)
        card.reset()


def test_a_recorded_trace_reads_back_with_every_documented_field(
    mynacard: Card, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    _record(mynacard, path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    header, entries = lines[0], lines[1:]
    assert header["format"] == "mynumber-card-emulator trace"
    assert header["version"] == TRACE_VERSION
    assert header["card"]["seed"] == "0" and header["card"]["serial"].startswith("TEST")
    exchanges = [e for e in entries if e["event"] == "exchange"]
    assert [e["n"] for e in exchanges] == list(range(1, len(exchanges) + 1))
    keys = {"n", "t", "command", "response", "sw", "app", "ef", "pin", "tries_left"}
    keys |= {"action", "decision", "reason", "diagnosis", "faults"}
    assert all(keys <= set(e) for e in exchanges)
    refused = next(e for e in exchanges if e["sw"] == "6982")
    assert refused["decision"] == "refused" and refused["action"] == "sign"
    assert "cleared by the SELECT of the JPKI AP" in refused["diagnosis"]
    wrong = next(e for e in exchanges if e["sw"] == "63C4")
    assert (wrong["pin"], wrong["tries_left"], wrong["ef"]) == ("signing", 4, "001B")
    assert entries[-1]["event"] == "reset"
    assert all(e["t"] >= 0 for e in entries)
    trace = read_trace(path)
    assert [e.n for e in trace.exchanges()] == [e["n"] for e in exchanges]


def test_no_pin_is_ever_written(mynacard: Card, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    _record(mynacard, path)
    text = path.read_text()
    for value in (mynacard.created_pins or {}).values():
        assert value.encode().hex().upper() not in text
    assert b"WRONG1".hex().upper() not in text
    assert "<4 bytes redacted>" in text and "<6 bytes redacted>" in text


def _lines(*objects: object) -> list[str]:
    return [json.dumps(o) for o in objects]


HEADER = {"format": "mynumber-card-emulator trace", "version": 1, "started": "", "card": {}}


def exchange(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"event": "exchange", "n": 1, "t": 0.0, "command": "00A4040C"}
    base.update(fields, response="9000", sw="9000")
    return base


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty"),
        (_lines({"format": "something else"}), "not a trace"),
        (_lines({**HEADER, "version": 99}), "version 99 is not supported"),
        (_lines(HEADER, exchange(command="002000800431323334")), "line 2: bad line: a command"),
        (_lines(HEADER, {"event": "teleport", "t": 0}), "line 2: bad line: unknown event"),
        (_lines(HEADER, {"event": "exchange", "t": 0}), "line 2: missing field"),
        (["{not json"], "line 1"),
    ],
)
def test_a_bad_trace_is_one_clear_error_naming_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(TraceFormatError, match=message):
        read_trace(lines)


def test_split_redacted_gives_back_the_parts_around_the_pin() -> None:
    assert split_redacted("0020008004<4 bytes redacted>") == (bytes.fromhex("0020008004"), 4, b"")
    assert split_redacted("00A4040C") == (bytes.fromhex("00A4040C"), None, b"")
    with pytest.raises(ValueError, match="hex"):
        split_redacted("00zz")
