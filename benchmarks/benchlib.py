"""A small harness for the benchmarks: cases measured interleaved, pairs reported as ratios.

Why not pyperf: it runs each benchmark in its own worker processes one after the other and compares
result files afterwards, so a change of load between A and B (other jobs on a shared 2-core
machine) lands in the ratio. Here the cases of one script run in the same rounds, in rotating order
(A B C, B C A, ...), and a pair's ratio is taken round by round, so slow and fast phases of the
machine hit both sides alike. Each case reports its median and its spread (min–max over the
rounds); the load average is printed before and after. Benchmarks are never pass/fail: the goal
is printed beside the figure, nothing is asserted.

A script builds its cases, calls :meth:`Bench.run`, then :meth:`Bench.summary` once per figure it
owns; each summary is one line starting ``SUMMARY``. ``--json PATH`` writes the summaries for
``run_all.py``, which turns them into ``benchmarks/results.md`` and the README's table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    """One thing measured: ``sample()`` returns the seconds of one operation (one sample)."""

    name: str
    sample: Callable[[], float]


def per_call(fn: Callable[[], object], inner: int = 1) -> Callable[[], float]:
    """A sampler timing ``inner`` calls of ``fn`` back to back: seconds per call."""

    def sample() -> float:
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - start) / inner

    return sample


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a measured child process: bytecode caching on (as an installed
    package has it; this machine's sessions set PYTHONDONTWRITEBYTECODE), plus ``extra``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def run_process(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run ``argv`` to completion: (wall seconds, its stdout). RuntimeError if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        list(argv), env=env or child_env(), cwd=REPO, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


@dataclass
class Stats:
    """Median and spread of a list of samples (seconds, or a ratio)."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(statistics.median(values), min(values), max(values), len(values))


@dataclass
class Summary:
    """One figure of the README table."""

    script: str
    figure: str
    measured: str
    goal: str
    pair: str
    load: str = ""
    values: dict[str, float] = field(default_factory=dict)


def fmt_time(seconds: float) -> str:
    """Seconds in the unit that reads best: µs, ms or s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs" if seconds >= 1e-5 else f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


class Bench:
    """The run of one benchmark script: arguments, interleaved rounds, printed results."""

    def __init__(
        self,
        script: str,
        description: str,
        *,
        rounds: int = 9,
        options: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> None:
        """``options`` adds a script's own arguments to the parser (found in ``self.args``)."""
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument(
            "--rounds", type=int, default=rounds, help="rounds (default %(default)s)"
        )
        parser.add_argument("--json", type=Path, help="also write the summaries to this file")
        if options is not None:
            options(parser)
        self.args = parser.parse_args()
        self.script = script
        self.rounds: int = self.args.rounds
        self.summaries: list[Summary] = []
        self.samples: dict[str, list[float]] = {}
        self.load_before = load_average()
        print(f"== {script}: {description}")
        print(f"   load average before: {self.load_before} ({os.cpu_count()} CPUs)")

    def run(self, cases: Sequence[Case], *, warmup: int = 1) -> dict[str, list[float]]:
        """Every case once per round, the order rotating each round; ``warmup`` rounds first,
        not counted. Returns (and keeps) the samples by case name, in round order."""
        for _ in range(warmup):
            for case in cases:
                case.sample()
        samples: dict[str, list[float]] = {case.name: [] for case in cases}
        for round_number in range(self.rounds):
            shift = round_number % len(cases)
            for case in [*cases[shift:], *cases[:shift]]:
                samples[case.name].append(case.sample())
        for name, values in samples.items():
            stats = Stats.of(values)
            print(
                f"   {name:<58} median {fmt_time(stats.median):>9}   "
                f"min–max {fmt_time(stats.low)}–{fmt_time(stats.high)}"
            )
        self.samples.update(samples)
        return samples

    def ratio(self, a: str, b: str) -> Stats:
        """A / B taken round by round (both sides measured in the same round)."""
        ratios = [x / y for x, y in zip(self.samples[a], self.samples[b], strict=True)]
        stats = Stats.of(ratios)
        print(
            f"   ratio {a} / {b}: median {stats.median:.2f}× "
            f"(rounds {stats.n}: {stats.low:.2f}–{stats.high:.2f})"
        )
        return stats

    def difference(self, a: str, b: str) -> Stats:
        """A - B in seconds, round by round."""
        deltas = [x - y for x, y in zip(self.samples[a], self.samples[b], strict=True)]
        stats = Stats.of(deltas)
        print(
            f"   extra {a} - {b}: median {fmt_time(stats.median)} "
            f"(rounds {stats.n}: {fmt_time(stats.low)}–{fmt_time(stats.high)})"
        )
        return stats

    def median(self, name: str) -> Stats:
        return Stats.of(self.samples[name])

    def summary(self, figure: str, measured: str, *, goal: str, pair: str, **values: float) -> None:
        """Record and print one SUMMARY line: the figure, what was measured, its goal."""
        entry = Summary(self.script, figure, measured, goal, pair, values=values)
        self.summaries.append(entry)
        print(f"SUMMARY {self.script}: {figure}: {measured} (goal {goal}; {pair})")

    def finish(self) -> None:
        """Print the load average after the run and write the JSON file if asked."""
        load_after = load_average()
        print(f"   load average after: {load_after}")
        for entry in self.summaries:
            entry.load = f"{self.load_before} → {load_after}"
        if self.args.json is not None:
            self.args.json.write_text(json.dumps([asdict(s) for s in self.summaries], indent=1))
        sys.stdout.flush()
