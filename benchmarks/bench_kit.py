#!/usr/bin/env python3
"""Benchmark (not a test): the test kit — a user's suite serial against pytest-xdist, and a card
from the plugin's factory.

Interleaved in one run:
  * the 55-test suite ``benchmarks/kit_suite`` (a fresh card per test, five seeds) run by pytest
    serially, and with ``-n 2`` (two workers, each making its own cards from the key cache); then
    the same with every card answering at a real card's pace (``Latency(profile="contact")``);
  * in-process: a card from ``CardFactory.create`` (what each ``mynacard`` fixture costs: a clone
    of the spec's template, powered) beside ``Card.create(None, seed=7)`` again.

Clone µs and the first card of a cached / uncached seed in a new process are ``bench_create`` and
``bench_fresh_process``.

    .venv/bin/python benchmarks/bench_kit.py [--rounds 3]
"""

from __future__ import annotations

import sys

from benchlib import REPO, Bench, Case, child_env, per_call, run_process

from card_emulator import Card
from card_emulator.testing import CardFactory

SUITE = str(REPO / "benchmarks" / "kit_suite")
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SUITE]


def suite(*extra: str, latency: str = "") -> float:
    env = child_env(MYNACARD_BENCH_LATENCY=latency) if latency else child_env()
    seconds, out = run_process([*PYTEST, *extra], env=env)
    if "55 passed" not in out:
        raise RuntimeError(f"the suite did not pass: {out[-500:]}")
    return seconds


def main() -> None:
    bench = Bench("bench_kit", "a 55-test user suite, serial and -n 2; a fixture's card", rounds=3)
    bench.run(
        [
            Case("55-test suite, serial", lambda: suite()),
            Case("55-test suite, -n 2", lambda: suite("-n", "2")),
        ],
        warmup=0,
    )
    serial = bench.median("55-test suite, serial")
    parallel = bench.median("55-test suite, -n 2")
    ratio = bench.ratio("55-test suite, serial", "55-test suite, -n 2")
    bench.summary(
        "55-test user suite (`benchmarks/kit_suite`), emulator speed: serial / `pytest -n 2`",
        f"{ratio.median:.2f}× ({ratio.low:.2f}–{ratio.high:.2f}): serial "
        f"{serial.median:.2f} s, -n 2 {parallel.median:.2f} s",
        goal="-n 2 faster (ratio > 1)",
        pair="cards cost µs: the workers' start-up (~1 s here) dominates",
        ratio=ratio.median,
    )
    bench.run(
        [
            Case("55-test suite at card pace, serial", lambda: suite(latency="contact")),
            Case("55-test suite at card pace, -n 2", lambda: suite("-n", "2", latency="contact")),
        ],
        warmup=0,
    )
    paced = bench.ratio("55-test suite at card pace, serial", "55-test suite at card pace, -n 2")
    paced_serial = bench.median("55-test suite at card pace, serial").median
    paced_parallel = bench.median("55-test suite at card pace, -n 2").median
    bench.summary(
        'the same suite at a real card\'s pace (`Latency(profile="contact")`): serial / `-n 2`',
        f"{paced.median:.2f}× ({paced.low:.2f}–{paced.high:.2f}): serial {paced_serial:.1f} s, "
        f"-n 2 {paced_parallel:.1f} s",
        goal="-n 2 faster (ratio > 1)",
        pair="each worker makes its cards from the key cache",
        ratio=paced.median,
    )
    factory = CardFactory()
    factory.create(seed=7)
    Card.create(None, seed=7)
    bench.run(
        [
            Case(
                "a card from CardFactory.create (the fixture)",
                per_call(lambda: factory.create(seed=7), 100),
            ),
            Case(
                "Card.create(None, seed=7) again", per_call(lambda: Card.create(None, seed=7), 100)
            ),
        ]
    )
    fixture = bench.median("a card from CardFactory.create (the fixture)")
    bench.summary(
        "a fresh card for a test (`mynacard` fixture's factory)",
        f"{fixture.median * 1e6:.0f} µs ({fixture.low * 1e6:.0f}–{fixture.high * 1e6:.0f})",
        goal="≤ 1 ms",
        pair=f"`Card.create` again: {bench.median('Card.create(None, seed=7) again').median * 1e6:.0f} µs",
        us=fixture.median * 1e6,
    )
    bench.finish()


if __name__ == "__main__":
    main()
