#!/usr/bin/env python3
"""Benchmark of the test kit: fresh cards and a user's suite under pytest-xdist.

    .venv/bin/python benchmarks/bench_kit.py [--rounds 3]

Records, each as the median of ``--rounds`` runs:

* ``Card.clone()`` of a card (µs; "n/a" on a tree without ``Card.clone``);
* the first card of a seed in a new process, key cache warm (``Card.create(None, seed=S)``, ms);
* the same for a seed never seen before (uncached: keys generated, ms);
* the 55-test suite ``benchmarks/kit_suite`` run by pytest serially and with ``-n 2`` (s), the
  two runs of each round interleaved, and their ratio (serial / parallel: above 1, xdist wins).

Timings on a shared machine are noisy: compare the ratio, and give ``cat /proc/loadavg``.
Self-contained until the project's benchmark framework lands (branch ``keys``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "benchmarks" / "kit_suite"
FIRST_CARD = (
    "import time; t = time.perf_counter(); from card_emulator import Card; "
    "Card.create(None, seed={seed}); print(time.perf_counter() - t)"
)


def clone_us(rounds: int) -> str:
    from card_emulator import Card

    clone = getattr(Card, "clone", None)
    if clone is None:
        return "n/a (no Card.clone on this tree)"
    card = Card.create(None, seed=7)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(200):
            card.clone().close()  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - start) / 200 * 1e6)
    return f"{statistics.median(samples):.0f} µs"


def first_card_ms(seed: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CARD.format(seed=seed)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return float(out.strip().splitlines()[-1]) * 1000


def suite_s(workers: int | None) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SUITE)]
    if workers:
        command += ["-n", str(workers)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the suite failed:\n{result.stdout[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"Card.clone():                         {clone_us(rounds)}")
    first_card_ms(7)  # fill the key cache for seed 7, if there is one
    warm = statistics.median(first_card_ms(7) for _ in range(rounds))
    print(f"first card, cached seed, new process:  {warm:.0f} ms")
    fresh_seeds = [random.randrange(10**9, 2 * 10**9) for _ in range(rounds)]
    cold = statistics.median(first_card_ms(seed) for seed in fresh_seeds)
    print(f"first card, uncached seed:             {cold:.0f} ms")
    serial, parallel = [], []
    for _ in range(rounds):  # interleaved pairs: the noise hits both sides alike
        serial.append(suite_s(None))
        parallel.append(suite_s(2))
    s, p = statistics.median(serial), statistics.median(parallel)
    print(f"55-test suite, serial:                 {s:.1f} s")
    print(f"55-test suite, -n 2:                   {p:.1f} s")
    print(f"serial / -n 2:                         {s / p:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
