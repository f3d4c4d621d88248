"""Terminal tables with ``rich``, Markdown tables, JSON for scripts.

``rich`` (installed with typer) wraps each cell to the terminal width and measures East Asian wide
characters as two columns, so Japanese and English tables both fit 80 columns. Colour follows rich:
only on a terminal, never with ``NO_COLOR`` (https://no-color.org).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time
from enum import Enum, StrEnum
from typing import IO, Any

from rich import box
from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text as RichText


class Style(StrEnum):
    """The few styles the teaching output uses; colour is never the only signal (a word says it)."""

    OK = "green"
    WARN = "yellow"
    ERROR = "bold red"
    BOLD = "bold"
    DIM = "dim"


def colour_enabled(stream: IO[str] | None, environ: Mapping[str, str] | None = None) -> bool:
    """True only when ``stream`` is a terminal and ``NO_COLOR`` is not set."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env or stream is None:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide (W/F) characters count two (rich's measure)."""
    return cell_len(text)


def console(*, err: bool = False, width: int | None = None, file: IO[str] | None = None) -> Console:
    """A console on stdout (or stderr) as it is now: the terminal's width, else ``COLUMNS`` or 80.

    Created per call, so a test runner that swaps ``sys.stdout`` is honoured.
    """
    stream = file if file is not None else (sys.stderr if err else sys.stdout)
    colour = colour_enabled(stream)
    return Console(
        file=stream,
        width=width,
        force_terminal=colour,
        no_color=not colour,
        highlight=False,
        markup=False,
        soft_wrap=False,
        emoji=False,
    )


def styled(text: str, style: Style | None = None) -> RichText:
    """Plain text (never read as markup) in ``style``."""
    return RichText(text, style=style.value if style else "")


# Japanese line breaking (禁則処理, simplified): a line may break between any two wide characters
# but never inside an ASCII token ("6:30", "63C0", "EF 0001"), never before closing punctuation and
# never after an opening bracket. rich breaks at spaces only, so Japanese cells get this renderable.
_UNIT = re.compile(r"\[[^\]\n]{1,16}\]|[\x21-\x7e\uff5e]+|\s+|.", re.DOTALL)
# Small kana (ッ, ャ, ぁ …) never start a line either: "ロ" / "ック" is broken badly (JIS X 4051).
_NO_LINE_START = set(
    "、。，．・ー)」』】〕！？：；,.:;!?%ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
) | {")"}
_NO_LINE_END = set("(「『【〔[")
_WIDE = re.compile("[\u3000-\u9fff\uff00-\uffef]")


def _units(line: str) -> list[str]:
    units: list[str] = []
    for unit in _UNIT.findall(line):
        if units and (unit[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END):
            units[-1] += unit
        else:
            units.append(unit)
    return units


class WrappedJapanese:
    """A cell of Japanese text that wraps to its column by the rules above (a rich renderable)."""

    def __init__(self, text: str, style: str = "") -> None:
        self.text = text
        self.style = style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        lines = self.text.split("\n")
        widest_unit = max((cell_len(u.strip()) for ln in lines for u in _units(ln)), default=1)
        return Measurement(min(widest_unit, options.max_width),
                           min(max(cell_len(ln) for ln in lines), options.max_width))  # fmt: skip

    def wrap(self, width: int) -> list[str]:
        """The lines of the text at ``width`` columns."""
        out: list[str] = []
        for line in self.text.split("\n"):
            current = ""
            for unit in _units(line):
                if unit.isspace() and cell_len(current + unit) > width:
                    continue  # a space at the end of a full line is dropped
                if current and cell_len(current + unit.rstrip()) > width:
                    out.append(current.rstrip())
                    current = unit.lstrip()
                else:
                    current += unit
                while cell_len(current) > width:  # a single unit wider than the column
                    cut = len(chop_cells(current, width)[0])
                    out.append(current[:cut])
                    current = current[cut:]
            out.append(current.rstrip())
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield RichText("\n".join(self.wrap(options.max_width)), style=self.style)


def wrappable(text: str, style: str = "") -> str | WrappedJapanese:
    """``text`` as a table cell: Japanese text wraps by :class:`WrappedJapanese`, other text by
    rich's word wrapping."""
    return WrappedJapanese(text, style) if _WIDE.search(text) else text


def bullets(items: Sequence[str]) -> Table:
    """A list whose items wrap under themselves (not under the bullet)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row("-", wrappable(item))
    return grid


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | RichText | WrappedJapanese]],
    *,
    title: str | None = None,
    no_wrap: Sequence[int] = (),
) -> Table:
    """A table whose cells wrap (never cut) to the console width. ``no_wrap``: short columns
    (numbers, status words) kept whole."""
    result = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=False,
        title_justify="left",
        header_style="bold",
    )
    for i, header in enumerate(headers):
        result.add_column(header, overflow="fold", no_wrap=i in no_wrap)
    for row in rows:
        result.add_row(*(fit_cell(cell) for cell in row))
    return result


def fit_cell(cell: str | RichText | WrappedJapanese) -> str | RichText | WrappedJapanese:
    """A cell that wraps as Japanese when it is Japanese; a styled cell keeps its style."""
    if isinstance(cell, str):
        return wrappable(cell)
    if isinstance(cell, RichText) and _WIDE.search(cell.plain):
        return WrappedJapanese(cell.plain, str(cell.style))
    return cell


def render_text(renderable: Any, width: int = 80) -> str:
    """What ``renderable`` prints on a console ``width`` columns wide, without colour (tests)."""
    import io

    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, highlight=False, emoji=False).print(renderable)
    return buffer.getvalue()


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table; ``|`` escaped, newlines as ``<br>``."""

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


def dots(remaining: int, max_tries: int) -> str:
    """A counter as dots, one per try: ``●●○`` is 2 of 3 left (the number is said beside it)."""
    return "●" * remaining + "○" * (max_tries - remaining)
