#!/usr/bin/env python3
"""Benchmark (not a test): the CLI's start-up, ``mynacard --help`` over a bare Python.

Interleaved, each a new process:
  * ``python -c pass``: the interpreter and the virtualenv's site (the floor);
  * ``mynacard --help``: every command module imported and the click tree built, nothing else;
  * a typer application of two commands printing its ``--help``: what typer itself costs, for
    scale (the part of the figure the project cannot remove without leaving typer).
The figure is the extra time of ``mynacard --help`` over ``python -c pass``, round by round
(issue 10: goal ≤ +0.2 s). ``python -X importtime -m card_emulator.cli --help`` shows where it goes.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 15]
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from benchlib import Bench, Case, child_env, fmt_time, run_process

MYNACARD = str(Path(sys.executable).with_name("mynacard"))

TYPER_APP = textwrap.dedent(
    """
    import typer

    app = typer.Typer(add_completion=False, rich_markup_mode=None)

    @app.command()
    def one(x: int = 0) -> None:
        "One."

    @app.command()
    def two(x: int = 0) -> None:
        "Two."

    app()
    """
)


def main() -> None:
    bench = Bench("bench_startup", "`mynacard --help` start-up over bare Python", rounds=15)
    env = child_env()
    script = Path(tempfile.mkdtemp(prefix="mynacard-bench-")) / "typer_app.py"
    script.write_text(TYPER_APP)

    def process(argv: list[str]) -> Callable[[], float]:
        return lambda: run_process(argv, env)[0]

    bare, cli, typer_floor = "python -c pass", "mynacard --help", "a two-command typer app --help"
    bench.run(
        [
            Case(bare, process([sys.executable, "-c", "pass"])),
            Case(cli, process([MYNACARD, "--help"])),
            Case(typer_floor, process([sys.executable, str(script), "--help"])),
        ],
        warmup=2,  # the first runs write the bytecode caches
    )
    extra = bench.difference(cli, bare)
    typer_extra = bench.difference(typer_floor, bare)
    bench.summary(
        "`mynacard --help` start-up over bare Python",
        f"+{fmt_time(extra.median)} ({fmt_time(extra.low)}–{fmt_time(extra.high)}); "
        f"a bare typer app +{fmt_time(typer_extra.median)}",
        goal="≤ +0.2 s",
        pair=f"`python -c pass` {fmt_time(bench.median(bare).median)}",
        seconds=extra.median,
    )
    bench.finish()


if __name__ == "__main__":
    main()
