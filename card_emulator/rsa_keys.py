"""Deterministic RSA-2048 TEST keys: the prime search, and rebuilding a key from where it was found.

A key is named by a label. Its primes come from :class:`DeterministicRandom` over the label, by a
search fixed once and for all (the keys of every existing card depend on it, and
``tests/golden/card_digests.json`` pins them):

1. draw 128 bytes, set the top two bits and the lowest bit: the window's ``start``;
2. sieve the 4096 odd numbers ``start + 2k`` with the odd primes below 2^16;
3. for each survivor in order: stop the window if it overflows 1024 bits; skip it if
   ``(candidate - 1) % 65537 == 0`` (no draw); otherwise draw nine Miller–Rabin bases
   (``below(candidate - 3)`` each, drawn whether they are needed or not) and test;
4. the first prime is ``p``; the same again gives ``q``, repeated until |p - q| > 2^924
   (FIPS 186-4 B.3.1); the larger one is ``p``.

The primality test itself is GMP's (gmpy2: trial division, Baillie–PSW, one more Miller–Rabin
round). The bases are still drawn exactly as the original pure-Python Miller–Rabin drew them, so
the stream — and every later candidate — is unchanged; a prime passes both tests and a composite
fails both (a composite passing ten Miller–Rabin rounds, one with base 2, is not a practical event),
so the same primes come out, about 7× faster.

A search's outcome fits in four integers, a :class:`KeyWitness`: where in the label's stream each
prime's window ``start`` was drawn and its ``k``. :func:`rebuild_key` turns a witness back into the
key in well under a millisecond, and refuses one whose numbers cannot be the label's (out-of-range
``k``, wrong sizes or order, a small factor). The on-disk key cache
(:mod:`card_emulator.key_cache`) and the fixed keys shipped in :mod:`card_emulator.pki` keep
witnesses, never key material.

TEST KEYS ONLY: anyone with this source can derive every key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import gmpy2
from cryptography.hazmat.primitives.asymmetric import rsa

from card_emulator.drbg import DeterministicRandom

__all__ = [
    "KEY_BITS",
    "PUBLIC_EXPONENT",
    "KeyWitness",
    "derive_key",
    "rebuild_key",
    "search_witness",
]

PUBLIC_EXPONENT = 65537
KEY_BITS = 2048
PRIME_BITS = KEY_BITS // 2
_PRIME_BYTES = PRIME_BITS // 8
_TOP_BITS = 0b11 << (PRIME_BITS - 2)
_MILLER_RABIN_DRAWS = 9  # the original test: base 2, then nine random bases drawn up front
_SIEVE_LIMIT = 1 << 16
_SIEVE_WINDOW = 4096  # odd candidates examined per random start
_MIN_DISTANCE = 1 << (PRIME_BITS - 100)  # |p - q| > 2^924 (FIPS 186-4 B.3.1)


def _stream(label: bytes) -> DeterministicRandom:
    """The label's random stream; the domain ``rsa-2048`` keeps it apart from every other use."""
    return DeterministicRandom(b"rsa-2048", label)


@dataclass(frozen=True, slots=True)
class KeyWitness:
    """Where a label's two primes were found: ``(offset, k)`` for the first and the second one.

    ``offset`` is the byte offset in the label's stream of the 128-byte draw that started the
    prime's window; the prime is that draw, top two bits and lowest bit set, plus ``2k``
    (0 ≤ k < 4096). Four integers stand for the whole key.
    """

    first_offset: int
    first_k: int
    second_offset: int
    second_k: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        """``(first_offset, first_k, second_offset, second_k)``: the witness as the key cache stores
        it."""
        return (self.first_offset, self.first_k, self.second_offset, self.second_k)


_Sieve = tuple[tuple[tuple[int, int], ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@cache
def _sieve_primes() -> _Sieve:
    """The odd primes below 2^16 in the groups the sieve treats differently.

    ``((p, 2⁻¹ mod p) for p < W, primes W ≤ p < 2W, their -2⁻¹ mod p, primes p ≥ 2W)``, W = 4096.
    """
    flags = bytearray([1]) * _SIEVE_LIMIT
    flags[0:2] = b"\x00\x00"
    for i in range(2, math.isqrt(_SIEVE_LIMIT) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, _SIEVE_LIMIT, i)))
    primes = [i for i in range(3, _SIEVE_LIMIT) if flags[i]]
    w = _SIEVE_WINDOW
    small = tuple((p, (p + 1) // 2) for p in primes if p < w)
    middle = tuple(p for p in primes if w <= p < 2 * w)
    return (
        small,
        middle,
        tuple(p - (p + 1) // 2 for p in middle),
        tuple(p for p in primes if p >= 2 * w),
    )


def _survivors(start: int) -> bytearray:
    """``alive[k]`` is 1 when ``start + 2k`` has no odd prime factor below 2^16 (0 ≤ k < W)."""
    small, middle, neg_halves, large = _sieve_primes()
    w = _SIEVE_WINDOW
    alive = bytearray([1]) * w
    for p, half in small:
        # start + 2k ≡ 0 (mod p)  ⇔  k ≡ -start · 2⁻¹ (mod p)
        k = (-(start % p) * half) % p
        alive[k::p] = bytes(len(range(k, w, p)))
    start_gmp = gmpy2.mpz(start)  # GMP takes the residues of a big number faster than Python
    for p, neg_half, residue in zip(
        middle, neg_halves, map(start_gmp.__mod__, middle), strict=True
    ):
        k = residue * neg_half % p  # p ≥ W strikes at most one k
        if k < w:
            alive[k] = 0
    # p ≥ 2W: with s = -start mod p, start + 2k ≡ 0 ⇔ 2k ≡ s, and 2k < 2W ≤ p, so k = s / 2
    # when s is even and below 2W (an odd s would need 2k = s + p > 2W).
    for s in [s for s in map((-start_gmp).__mod__, large) if s < 2 * w]:
        if not s & 1:
            alive[s >> 1] = 0
    return alive


def _draw_bases(rng: DeterministicRandom, bound: int) -> None:
    """Consume what ``rng.below(bound)`` nine times would: the original Miller–Rabin bases.

    For a 1024-bit ``bound``, ``below`` draws 128 bytes until their big-endian value is below
    ``bound``; comparing the bytes with ``bound``'s own 128 bytes decides the same. Drawing the
    missing ones in batches consumes exactly as much of the stream (tests/test_keys.py compares
    with the original search).
    """
    limit = bound.to_bytes(_PRIME_BYTES, "big")
    needed = _MILLER_RABIN_DRAWS
    while needed:
        draws = rng.bytes(_PRIME_BYTES * needed)
        needed = sum(
            1 for i in range(0, len(draws), _PRIME_BYTES) if draws[i : i + _PRIME_BYTES] >= limit
        )


def _search_prime(rng: DeterministicRandom) -> tuple[int, int, int]:
    """The next prime of the search as ``(prime, offset of its window's draw, k)``."""
    while True:
        offset = rng.position
        start = int.from_bytes(rng.bytes(_PRIME_BYTES), "big") | _TOP_BITS | 1
        alive = _survivors(start)
        k = alive.find(1)
        while k >= 0:
            candidate = start + 2 * k
            if candidate.bit_length() != PRIME_BITS:
                break
            if (candidate - 1) % PUBLIC_EXPONENT:
                # The original test drew its bases before testing: consume them all the same.
                _draw_bases(rng, candidate - 3)
                if gmpy2.is_prime(candidate):  # trial division, Baillie–PSW, 1 round more
                    return candidate, offset, k
            k = alive.find(1, k + 1)


def search_witness(label: bytes) -> KeyWitness:
    """Run the search for ``label`` (tens of milliseconds): where its two primes are."""
    rng = _stream(label)
    p, p_offset, p_k = _search_prime(rng)
    while True:
        q, q_offset, q_k = _search_prime(rng)
        if abs(p - q) > _MIN_DISTANCE:
            return KeyWitness(p_offset, p_k, q_offset, q_k)


def _prime_at(rng: DeterministicRandom, offset: int, k: int) -> int:
    if offset < 0 or not 0 <= k < _SIEVE_WINDOW:
        raise ValueError("witness out of range")
    start = int.from_bytes(rng.bytes_at(offset, _PRIME_BYTES), "big") | _TOP_BITS | 1
    prime = start + 2 * k
    if prime.bit_length() != PRIME_BITS or (prime - 1) % PUBLIC_EXPONENT == 0:
        raise ValueError("witness does not name a usable 1024-bit prime candidate")
    return prime


@cache
def _small_prime_product() -> object:
    """The product of all primes below 2^16 (a GMP integer): gcd 1 with it = no small factor."""
    return gmpy2.primorial(_SIEVE_LIMIT)


def rebuild_key(label: bytes, witness: KeyWitness) -> rsa.RSAPrivateKey:
    """The key of ``label`` from its witness, without the search (about 0.2 ms).

    Checked: both primes are candidates of the label's own stream (so a witness of another label
    is refused), of 1024 bits with gcd(x - 1, e) = 1, in search order, far enough apart, and free
    of prime factors below 2^16 as every number the search tests is (so a witness naming another
    candidate of the stream is refused 19 times in 20 before any digest is even consulted).
    Primality itself is the search's word — the witness comes from it, carried with a digest (the
    key cache) or in the source (the shipped TEST vectors, checked against the search by the test
    suite): proving it again would cost a millisecond or more per key, on every load.
    ValueError if the witness is refused.
    """
    rng = _stream(label)
    p = _prime_at(rng, witness.first_offset, witness.first_k)
    q = _prime_at(rng, witness.second_offset, witness.second_k)
    if witness.second_offset <= witness.first_offset or abs(p - q) <= _MIN_DISTANCE:
        raise ValueError("witness primes are not in search order or too close")
    small = _small_prime_product()
    if gmpy2.gcd(gmpy2.mpz(p), small) != 1 or gmpy2.gcd(gmpy2.mpz(q), small) != 1:  # mpz: 5× faster
        raise ValueError("witness names a number with a small factor")
    return _private_key(p, q)


def _private_key(p: int, q: int) -> rsa.RSAPrivateKey:
    if p < q:
        p, q = q, p
    e = PUBLIC_EXPONENT
    d = int(gmpy2.invert(e, gmpy2.lcm(p - 1, q - 1)))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),  # = rsa.rsa_crt_dmp1(d, p)
        dmq1=d % (q - 1),  # = rsa.rsa_crt_dmq1(d, q)
        iqmp=int(gmpy2.invert(q, p)),  # = rsa.rsa_crt_iqmp(p, q); GMP: 100× faster here
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    # OpenSSL's own check (about 50 ms: it re-tests both primes) adds nothing here: p and q are
    # primes by construction and the other numbers are computed from them just above.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def derive_key(label: bytes) -> tuple[rsa.RSAPrivateKey, KeyWitness]:
    """Search for ``label``'s key: the key and its witness."""
    witness = search_witness(label)
    return rebuild_key(label, witness), witness
