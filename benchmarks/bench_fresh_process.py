#!/usr/bin/env python3
"""Benchmark (not a test): the first card in a fresh Python process, keys cached on disk or not.

Three kinds of child process, interleaved round by round:
  * the floor: ``from card_emulator import Card`` and nothing else;
  * a cached seed: ``Card.create(None, seed=S)`` for a seed whose keys are in the key cache;
  * a new seed, cold: ``Card.create(None, seed=<never used before>)``: its two per-card keys are
    searched (and written to the cache); the fixed TEST keys ship with the package.
Each child reports how long its ``Card.create`` call took; the whole process is timed too. The
key cache is a temporary directory (``MYNACARD_KEY_CACHE``), so the user's own is not touched.
Children run with bytecode caching on, as an installed package has it.

    .venv/bin/python benchmarks/bench_fresh_process.py [--rounds 7]
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import tempfile
from collections.abc import Callable

from benchlib import Bench, Case, Stats, child_env, run_process

CHILD = """
import json, sys, time
start = time.perf_counter()
from card_emulator import Card
imported = time.perf_counter()
if sys.argv[1] != "none":
    Card.create(None, seed=int(sys.argv[1]))
done = time.perf_counter()
print(json.dumps({"import": imported - start, "create": done - imported}))
"""


def main() -> None:
    bench = Bench("bench_fresh_process", "the first card in a new process", rounds=7)
    cache = tempfile.mkdtemp(prefix="mynacard-bench-keys-")
    env = child_env(MYNACARD_KEY_CACHE=cache)
    cached_seed = 700_000_001
    run_process([sys.executable, "-c", CHILD, str(cached_seed)], env)  # fills the cache
    fresh_seeds = itertools.count(random.SystemRandom().randrange(10**9, 2 * 10**9))
    inside: dict[str, list[float]] = {}

    def child(name: str, seed: Callable[[], str]) -> Case:
        def sample() -> float:
            elapsed, out = run_process([sys.executable, "-c", CHILD, seed()], env)
            inside.setdefault(name, []).append(json.loads(out)["create"])
            return elapsed

        return Case(name, sample)

    floor, cached, cold = "import only (the floor)", "cached seed", "new seed, cold"
    bench.run(
        [
            child(floor, lambda: "none"),
            child(cached, lambda: str(cached_seed)),
            child(cold, lambda: str(next(fresh_seeds))),
        ]
    )
    rounds = bench.rounds
    call = {name: Stats.of(values[-rounds:]) for name, values in inside.items()}
    for name in (cached, cold):
        stats = call[name]
        print(
            f"   Card.create call, {name:<40} median {stats.median * 1e3:7.1f} ms   "
            f"min–max {stats.low * 1e3:.1f}–{stats.high * 1e3:.1f} ms"
        )
    process = {name: bench.median(name) for name in (floor, cached, cold)}
    bench.summary(
        "new seed, cold, in a fresh process (`Card.create(None, seed=new)`; uncached seed)",
        f"{call[cold].median * 1e3:.0f} ms ({call[cold].low * 1e3:.0f}–{call[cold].high * 1e3:.0f});"
        f" whole process {process[cold].median * 1e3:.0f} ms",
        goal="≤ 300 ms",
        pair=f"a process that only imports: {process[floor].median * 1e3:.0f} ms",
        ms=call[cold].median * 1e3,
    )
    bench.summary(
        "cached seed's first card in a new process",
        f"{call[cached].median * 1e3:.1f} ms ({call[cached].low * 1e3:.1f}–"
        f"{call[cached].high * 1e3:.1f}); whole process {process[cached].median * 1e3:.0f} ms",
        goal="≤ 50 ms",
        pair=f"a process that only imports: {process[floor].median * 1e3:.0f} ms",
        ms=call[cached].median * 1e3,
    )
    bench.finish()


if __name__ == "__main__":
    main()
