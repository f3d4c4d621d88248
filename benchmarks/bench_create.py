#!/usr/bin/env python3
"""Benchmark (not a test): cards already made in this process — create again, and clone.

Interleaved in one run (in-process; the seed's keys already in memory):
  * ``Card.create(None, seed=7)`` again (the process's template, cloned);
  * ``card.clone()`` of an in-memory card, and of a card file opened with ``Card.open``;
  * issuing the card again without the template (what ``Card.create`` did before: certificates
    rebuilt byte-identical, six PIN hashes): the reference.

    .venv/bin/python benchmarks/bench_create.py [--rounds 9]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchlib import Bench, Case, per_call

from card_emulator import Card, templates

SEED = 7


def main() -> None:
    bench = Bench("bench_create", "the same seed again, and Card.clone")
    memory_card = Card.create(None, seed=SEED)
    path = Path(tempfile.mkdtemp(prefix="mynacard-bench-")) / "c.card"
    Card.create(path, seed=SEED).close()
    file_card = Card.open(path)

    def reissue() -> None:
        templates.clear()
        Card.create(None, seed=SEED)

    bench.run(
        [
            Case(
                "Card.create(None, seed=7) again",
                per_call(lambda: Card.create(None, seed=SEED), 100),
            ),
            Case("clone of an in-memory card", per_call(memory_card.clone, 100)),
            Case("clone of an opened card file", per_call(file_card.clone, 100)),
            Case("issue again without the template (reference)", per_call(reissue, 5)),
        ]
    )
    again = bench.median("Card.create(None, seed=7) again")
    reference = bench.ratio(
        "issue again without the template (reference)", "Card.create(None, seed=7) again"
    )
    bench.summary(
        "same seed again in one process",
        f"{again.median * 1e3:.2f} ms ({again.low * 1e3:.2f}–{again.high * 1e3:.2f})",
        goal="≤ 5 ms",
        pair=f"issuing again without the template: {reference.median:.0f}× as long",
        ms=again.median * 1e3,
    )
    memory = bench.median("clone of an in-memory card")
    on_file = bench.median("clone of an opened card file")
    bench.summary(
        "`Card.clone()`",
        f"{memory.median * 1e6:.0f} µs in memory, {on_file.median * 1e6:.0f} µs from a card file",
        goal="≤ 1 ms",
        pair=f"spread {memory.low * 1e6:.0f}–{memory.high * 1e6:.0f} µs",
        us=memory.median * 1e6,
    )
    file_card.close()
    bench.finish()


if __name__ == "__main__":
    main()
