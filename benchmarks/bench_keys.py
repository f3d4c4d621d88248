#!/usr/bin/env python3
"""Benchmark (not a test): one RSA-2048 TEST key — searched, searched the original way, rebuilt.

Interleaved, a new label each round, the same for both searches (no cache of any kind):
  * the search as the card does it now (``rsa_keys.search_witness``: GMP primality, same candidates);
  * the original pure-Python search (``tests/reference_keygen.py``, kept as the reference);
  * rebuilding the key from its witness (what a key-cache hit costs).
A new seed's card needs two such keys today, about five once every AP has its own key; the
primality tests of the ~35 composites before each prime are most of a search (one modular
exponentiation each), so a cold seed costs about that many searches.

    .venv/bin/python benchmarks/bench_keys.py [--rounds 3]
"""

from __future__ import annotations

import itertools
import random
import sys
import time

from benchlib import REPO, Bench, Case

from card_emulator import rsa_keys

sys.path.insert(0, str(REPO))
from tests.reference_keygen import reference_primes


def main() -> None:
    bench = Bench(
        "bench_keys", "one RSA-2048 TEST key: searched, searched the original way", rounds=3
    )
    base = random.SystemRandom().randrange(10**9)
    calls = {"now": itertools.count(), "original": itertools.count()}

    def label(case: str) -> bytes:
        """The n-th call of either case gets the same label: the pair sees the same candidates."""
        return f"bench_keys {base + next(calls[case])}".encode()

    def search() -> float:
        chosen = label("now")
        start = time.perf_counter()
        rsa_keys.search_witness(chosen)
        return time.perf_counter() - start

    def original() -> float:
        chosen = label("original")
        start = time.perf_counter()
        reference_primes(chosen)
        return time.perf_counter() - start

    def rebuild() -> float:
        chosen = b"bench_keys rebuild"
        witness = rsa_keys.search_witness(chosen)
        start = time.perf_counter()
        for _ in range(20):
            rsa_keys.rebuild_key(chosen, witness)
        return (time.perf_counter() - start) / 20

    rsa_keys.search_witness(b"bench_keys warm-up")
    bench.run(
        [
            Case("search a key (gmpy2)", search),
            Case("search a key, the original pure-Python way", original),
            Case("rebuild a key from its witness (a cache hit)", rebuild),
        ],
        warmup=0,
    )
    now = bench.median("search a key (gmpy2)")
    ratio = bench.ratio("search a key, the original pure-Python way", "search a key (gmpy2)")
    hit = bench.median("rebuild a key from its witness (a cache hit)")
    bench.summary(
        "one per-card RSA-2048 key, searched (a new seed needs 2 today, ~5 with every AP's key)",
        f"{now.median * 1e3:.0f} ms ({now.low * 1e3:.0f}–{now.high * 1e3:.0f}); rebuilt from the "
        f"key cache {hit.median * 1e3:.2f} ms",
        goal="none of its own: ~5 of them within the 300 ms above",
        pair=f"the original pure-Python search of the same labels: {ratio.median:.1f}× as long",
        ms=now.median * 1e3,
    )
    bench.finish()


if __name__ == "__main__":
    main()
