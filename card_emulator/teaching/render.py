"""Plain-text and Markdown tables, colour only on a terminal, JSON for scripts.

Widths count East Asian wide characters as two columns so Japanese tables line up.
Colour (https://no-color.org): never when ``NO_COLOR`` is set or the stream is not a TTY.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time
from enum import Enum, StrEnum
from typing import IO, Any

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Style(StrEnum):
    OK = "32"  # green
    WARN = "33"  # yellow
    ERROR = "31"  # red
    BOLD = "1"
    DIM = "2"


def colour_enabled(stream: IO[str] | None, environ: Mapping[str, str] | None = None) -> bool:
    """True only when ``stream`` is a terminal and ``NO_COLOR`` is not set."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env or stream is None:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


def paint(text: str, style: Style | None, colour: bool) -> str:
    if not colour or style is None or not text:
        return text
    return f"\x1b[{style.value}m{text}\x1b[0m"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide (W/F) characters count two, combining marks none."""
    width = 0
    for char in _ANSI.sub("", text):
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    colour: bool = False,
) -> str:
    """A text table; multi-line cells are allowed (``\\n`` inside a cell)."""
    split_rows = [[cell.split("\n") for cell in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in split_rows:
        for i, lines in enumerate(row):
            widths[i] = max(widths[i], *(display_width(line) for line in lines))
    out = [
        "  ".join(
            paint(_pad(h, w), Style.BOLD, colour) for h, w in zip(headers, widths, strict=True)
        ).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in split_rows:
        height = max(len(lines) for lines in row)
        for k in range(height):
            cells = [
                _pad(lines[k] if k < len(lines) else "", w)
                for lines, w in zip(row, widths, strict=True)
            ]
            out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex().upper()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def to_json(value: Any) -> str:
    """JSON for scripts: enums by value, dates ISO, bytes hex, dataclasses as objects."""
    return json.dumps(_plain(value), ensure_ascii=False, indent=2)
