"""The key derivation as it was before issue 10 (pure Python), kept as the reference to compare with.

Slow on purpose (about 0.3–1 s a key): Python's ``pow`` for Miller–Rabin and the original
byte-at-a-time stream. ``card_emulator.rsa_keys`` must give exactly the same primes.
"""

from __future__ import annotations

import hashlib
import math

PUBLIC_EXPONENT = 65537
PRIME_BITS = 1024
MILLER_RABIN_ROUNDS = 10
SIEVE_LIMIT = 1 << 16
SIEVE_WINDOW = 4096


class ReferenceRandom:
    """The original DeterministicRandom: SHA-256(key ‖ counter), one block at a time."""

    def __init__(self, *label: bytes) -> None:
        digest = hashlib.sha256(b"mynacard-test-drbg-v1")
        for part in label:
            digest.update(b"b" + len(part).to_bytes(4, "big") + part)
        self._key = digest.digest()
        self._counter = 0
        self._buffer = b""

    def bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, n: int) -> int:
        bits = (n - 1).bit_length()
        nbytes = max(1, (bits + 7) // 8)
        while True:
            value = int.from_bytes(self.bytes(nbytes), "big") >> (nbytes * 8 - bits)
            if value < n:
                return value


def _small_primes() -> list[int]:
    flags = bytearray([1]) * SIEVE_LIMIT
    flags[0:2] = b"\x00\x00"
    for i in range(2, math.isqrt(SIEVE_LIMIT) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, SIEVE_LIMIT, i)))
    return [i for i in range(3, SIEVE_LIMIT) if flags[i]]


SMALL_PRIMES = _small_primes()


def is_probable_prime(n: int, rng: ReferenceRandom) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    bases = [2] + [2 + rng.below(n - 3) for _ in range(MILLER_RABIN_ROUNDS - 1)]
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(rng: ReferenceRandom) -> int:
    top = 0b11 << (PRIME_BITS - 2)
    while True:
        start = int.from_bytes(rng.bytes(PRIME_BITS // 8), "big") | top | 1
        alive = bytearray([1]) * SIEVE_WINDOW
        for p in SMALL_PRIMES:
            k = (-start * ((p + 1) // 2)) % p
            alive[k::p] = bytes(len(range(k, SIEVE_WINDOW, p)))
        for k in range(SIEVE_WINDOW):
            if not alive[k]:
                continue
            candidate = start + 2 * k
            if candidate.bit_length() != PRIME_BITS:
                break
            if (candidate - 1) % PUBLIC_EXPONENT == 0:
                continue
            if is_probable_prime(candidate, rng):
                return candidate


def reference_primes(label: bytes) -> tuple[int, int]:
    """(p, q) of the key named ``label``, p > q, as the original code found them."""
    rng = ReferenceRandom(b"rsa-2048", label)
    p = random_prime(rng)
    while True:
        q = random_prime(rng)
        if abs(p - q) > 1 << (PRIME_BITS - 100):
            break
    return (p, q) if p > q else (q, p)
