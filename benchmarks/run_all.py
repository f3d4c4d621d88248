#!/usr/bin/env python3
"""Run every benchmark script and write the table: ``benchmarks/results.md`` and the README's.

Each ``benchmarks/bench_*.py`` that uses ``benchlib`` runs in its own process (one after the other,
never two at once); its SUMMARY lines become rows. The table lists issue 10's rows first, in the
issue's order and each with its goal, whether measured in this run or not (a row whose script was
not run, or failed, says so); the other figures follow. The PC/SC scripts (``bench_pcsc``,
``bench_opensc``, and ``bench_served``, whose figures are printed, not tabled) need the PC/SC stack
and the machine-wide lock: they run only with ``--pcsc``, each under
``flock /tmp/mynacard-pcsc.lock``. The README's table sits between the
``<!-- benchmarks:begin -->`` and ``<!-- benchmarks:end -->`` markers and is replaced whole (not
with ``--only``). Benchmarks never fail a build: a script that fails is reported and the others
still run (exit status 1 at the end).

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
LOCK = "/tmp/mynacard-pcsc.lock"  # the machine-wide lock of pcscd's readers (COORDINATION.md)
PCSC = {"bench_pcsc", "bench_opensc"}  # tabled; need the PC/SC stack: --pcsc
PRINTED_ONLY = {"bench_served"}  # needs the PC/SC stack too; prints its own figures
# The order the scripts run in (issue 10's table); scripts not listed follow in name order.
ORDER = [
    "bench_sign",
    "bench_first_sign",
    "bench_fresh_process",
    "bench_keys",
    "bench_create",
    "bench_init",
    "bench_startup",
    "bench_pcsc",
    "bench_inprocess",
    "bench_opensc",
    "bench_verify",
]
# Issue 10's table, row by row: (script, the start of its SUMMARY figure, the row's name, goal).
ISSUE_ROWS = [
    ("bench_sign", "`80 2A 00 80` sign", "`80 2A 00 80` sign with a DigestInfo vs a bare "
     "`cryptography` RSA-2048 sign", "≤ 1.1×"),
    ("bench_first_sign", "first sign on a card", "first sign on a card", "≤ 1 ms extra"),
    ("bench_fresh_process", "new seed, cold", "new seed, cold, in a fresh process", "≤ 300 ms"),
    ("bench_create", "same seed again", "same seed again in one process", "≤ 5 ms"),
    ("bench_init", "`mynacard init`", "`mynacard init` as a whole process", "≤ 0.6 s"),
    ("bench_startup", "`mynacard --help`", "`mynacard --help` start-up over bare Python",
     "≤ +0.2 s"),
    ("bench_pcsc", "served through pcscd", "served through pcscd + vpcd vs a minimal card over "
     "the same vpcd protocol (the floor)", "≥ 0.9×"),
    ("bench_inprocess", "in-process SELECT EF", "in-process SELECT EF + READ BINARY 256 B vs "
     "vsmartcard's vicc `Iso7816OS.execute`", "≥ 25×"),
    ("bench_opensc", "`pkcs15-tool", "`pkcs15-tool --list-certificates` / `pkcs11-tool` login + "
     "sign vs the floor for the same APDUs", "≤ 1.1×"),
    ("bench_verify", "correct VERIFY", "correct VERIFY on a card file / in memory",
     "file ≤ 1.5 ms"),
]  # fmt: skip


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


def _arrange(summaries: list[dict[str, str]], why_not: dict[str, str]) -> list[dict[str, str]]:
    """Issue 10's rows in its order (a row not measured says why), then every other figure."""
    rows: list[dict[str, str]] = []
    used: set[int] = set()
    for script, prefix, name, goal in ISSUE_ROWS:
        found = [
            i
            for i, s in enumerate(summaries)
            if s["script"] == script and s["figure"].startswith(prefix) and i not in used
        ]
        if found:
            used.add(found[0])
            rows.append(summaries[found[0]])
        else:
            reason = why_not.get(script, "its script gave no such figure")
            rows.append(
                {"figure": name, "measured": f"not measured: {reason}", "goal": goal,
                 "pair": f"`benchmarks/{script}.py`", "load": ""}
            )  # fmt: skip
    rows.extend(s for i, s in enumerate(summaries) if i not in used)
    return rows


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
        help="also run the PC/SC scripts (bench_pcsc, bench_opensc, bench_served), under flock",
    )
    args = parser.parse_args()

    scripts = sorted(
        (p for p in HERE.glob("bench_*.py") if p.stem not in PRINTED_ONLY),
        key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem),
    )
    if args.only:
        scripts = [p for p in scripts if p.stem in args.only]
    summaries: list[dict[str, str]] = []
    why_not: dict[str, str] = {}
    failed: list[str] = []
    started = datetime.datetime.now().astimezone()
    for script in scripts:
        if script.stem in PCSC and not args.pcsc:
            why_not[script.stem] = "needs the PC/SC stack (`run_all.py --pcsc`)"
            continue
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, str(script), "--json", out.name]
            if args.rounds:
                command += ["--rounds", str(args.rounds)]
            if script.stem in PCSC:
                command = ["flock", LOCK, *command]
            print(f"$ {' '.join(command)}", flush=True)
            done = subprocess.run(command, cwd=REPO)
            if done.returncode != 0:
                failed.append(script.stem)
                why_not[script.stem] = f"the script failed (exit status {done.returncode})"
                continue
            summaries.extend(json.loads(Path(out.name).read_text() or "[]"))
    for name in sorted(PRINTED_ONLY) if args.pcsc and not args.only else ():
        command = ["flock", LOCK, sys.executable, str(HERE / f"{name}.py")]
        print(f"$ {' '.join(command)}", flush=True)
        if subprocess.run(command, cwd=REPO).returncode != 0:
            failed.append(name)
    for row in ISSUE_ROWS:
        if args.only and row[0] not in args.only:
            why_not.setdefault(row[0], "not run this time (`--only`)")

    header = (
        f"Measured {started:%Y-%m-%d %H:%M %Z} with `.venv/bin/python benchmarks/run_all.py"
        f"{' --pcsc' if args.pcsc else ''}` on {os.cpu_count()} CPUs ({_cpu_model()}), Python "
        f"{platform.python_version()}. Issue 10's rows come first, in its order. Each row's cases "
        "ran interleaved in one run; ratios are taken round by round; the load average is the "
        "machine's before → after the script (other jobs share it)."
    )
    rows = _arrange(summaries, why_not)
    table = _table(rows)
    RESULTS.write_text(f"# Benchmark results\n\n{header}\n\n{table}\n")
    print(f"wrote {RESULTS.relative_to(REPO)} ({len(summaries)} figures measured)")
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
