#!/usr/bin/env python3
"""Benchmark (not a test): ``mynacard init`` as a whole process.

Interleaved, each a new process creating a new card file:
  * ``mynacard init PATH --seed 0`` with the seed's keys in the key cache (the usual case: every
    ``init`` of a seed after the first on this machine);
  * ``mynacard init PATH --seed <new>``: a seed never used, its two keys searched;
  * ``python -c "from card_emulator import Card"``: a start-up that loads the card (its modules,
    ``cryptography``) and nothing else, for scale (``import card_emulator`` alone no longer does:
    the package's names are imported on first use).
The CLI's own start-up is ``bench_startup.py``'s.
The key cache is a temporary directory (``MYNACARD_KEY_CACHE``).

    .venv/bin/python benchmarks/bench_init.py [--rounds 7]
"""

from __future__ import annotations

import itertools
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchlib import Bench, Case, child_env, run_process

MYNACARD = str(Path(sys.executable).with_name("mynacard"))


def main() -> None:
    bench = Bench("bench_init", "`mynacard init` as a whole process", rounds=7)
    env = child_env(MYNACARD_KEY_CACHE=tempfile.mkdtemp(prefix="mynacard-bench-keys-"))
    directory = Path(tempfile.mkdtemp(prefix="mynacard-bench-"))
    paths = (str(directory / f"{n}.card") for n in itertools.count())
    seeds = itertools.count(random.SystemRandom().randrange(10**9, 2 * 10**9))
    run_process([MYNACARD, "init", next(paths), "--seed", "0"], env)  # the seed's keys cached

    def process(argv: Callable[[], list[str]]) -> Callable[[], float]:
        return lambda: run_process(argv(), env)[0]

    cached, new, floor = (
        "init, cached seed",
        "init, new seed",
        "python -c 'from card_emulator import Card'",
    )
    bench.run(
        [
            Case(cached, process(lambda: [MYNACARD, "init", next(paths), "--seed", "0"])),
            Case(new, process(lambda: [MYNACARD, "init", next(paths), "--seed", str(next(seeds))])),
            Case(floor, process(lambda: [sys.executable, "-c", "from card_emulator import Card"])),
        ]
    )
    done, fresh = bench.median(cached), bench.median(new)
    bench.summary(
        "`mynacard init` as a whole process",
        f"{done.median:.2f} s ({done.low:.2f}–{done.high:.2f}); a new seed {fresh.median:.2f} s",
        goal="≤ 0.6 s",
        pair=f"`python -c 'from card_emulator import Card'` {bench.median(floor).median:.2f} s",
        seconds=done.median,
    )
    bench.finish()


if __name__ == "__main__":
    main()
