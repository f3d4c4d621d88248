#!/usr/bin/env python3
"""Run every benchmark script and write the table: ``benchmarks/results.md`` and the README's.

Each ``benchmarks/bench_*.py`` that uses ``benchlib`` runs in its own process (one after the other,
never two at once); its SUMMARY lines become rows. ``bench_pcsc.py`` needs the PC/SC stack and the
machine-wide lock, and is left out unless ``--pcsc`` is given (its figures are then printed, not
tabled). The README's table sits between the ``<!-- benchmarks:begin -->`` and
``<!-- benchmarks:end -->`` markers and is replaced whole. Benchmarks never fail a build: a script
that fails is reported and the others still run (exit status 1 at the end).

    .venv/bin/python benchmarks/run_all.py [--rounds N] [--only NAME ...] [--no-readme] [--pcsc]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results.md"
README = REPO / "README.md"
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
NOT_TABLED = {"bench_pcsc", "bench_served"}  # need the PC/SC stack: --pcsc
# The order of the issues' tables; scripts not listed follow in name order.
ORDER = [
    "bench_sign",
    "bench_first_sign",
    "bench_fresh_process",
    "bench_keys",
    "bench_create",
    "bench_init",
    "bench_startup",
]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _table(rows: list[dict[str, str]]) -> str:
    lines = [
        "| figure | measured | goal | beside it, in the same run | load average (1 5 15 min) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [row["figure"], row["measured"], row["goal"], row["pair"], row["load"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, help="rounds for every script (default: each its own)"
    )
    parser.add_argument("--only", nargs="*", help="script names (e.g. bench_sign) to run")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    parser.add_argument(
        "--pcsc",
        action="store_true",
        help="also run bench_pcsc.py and bench_served.py (under flock)",
    )
    args = parser.parse_args()

    scripts = sorted(
        (p for p in HERE.glob("bench_*.py") if p.stem not in NOT_TABLED),
        key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem),
    )
    if args.only:
        scripts = [p for p in scripts if p.stem in args.only]
    rows: list[dict[str, str]] = []
    failed: list[str] = []
    started = datetime.datetime.now().astimezone()
    for script in scripts:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, str(script), "--json", out.name]
            if args.rounds:
                command += ["--rounds", str(args.rounds)]
            print(f"$ {Path(command[1]).relative_to(REPO)}", flush=True)
            done = subprocess.run(command, cwd=REPO)
            if done.returncode != 0:
                failed.append(script.stem)
                continue
            rows.extend(json.loads(Path(out.name).read_text() or "[]"))
    for name in sorted(NOT_TABLED) if args.pcsc else ():
        command = ["flock", "/tmp/mynacard-pcsc.lock", sys.executable, str(HERE / f"{name}.py")]
        print(f"$ {' '.join(command)}", flush=True)
        if subprocess.run(command, cwd=REPO).returncode != 0:
            failed.append(name)

    header = (
        f"Measured {started:%Y-%m-%d %H:%M %Z} with `.venv/bin/python benchmarks/run_all.py` on "
        f"{os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}. "
        "Each row's cases ran interleaved in one run; ratios are taken round by round; the "
        "load average is the machine's before → after the script (other jobs share it)."
    )
    table = _table(rows)
    RESULTS.write_text(f"# Benchmark results\n\n{header}\n\n{table}\n")
    print(f"wrote {RESULTS.relative_to(REPO)} ({len(rows)} rows)")
    if not args.no_readme and not args.only:
        text = README.read_text()
        if BEGIN in text and END in text:
            before, rest = text.split(BEGIN, 1)
            _, after = rest.split(END, 1)
            README.write_text(f"{before}{BEGIN}\n{header}\n\n{table}\n{END}{after}")
            print("updated the table in README.md")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
