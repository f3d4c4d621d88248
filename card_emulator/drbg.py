"""A deterministic byte stream for test data: the same label gives the same bytes everywhere.

Every synthetic value of a card (the holder, the RSA test keys, the face photo) is drawn from a
:class:`DeterministicRandom`, never from :mod:`random` or the wall clock, so a seed gives the same
card on every platform and Python version. Predictable by design: for test data only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["DeterministicRandom"]

_T = TypeVar("_T")


class DeterministicRandom:
    """A byte stream fixed by its label: SHA-256(key ‖ counter), key = SHA-256 of the label.

    Unlike :mod:`random`, its output is defined here and cannot change with the Python version.
    For test data only: it is predictable by design.
    """

    __slots__ = ("_buffer", "_counter", "_key")

    def __init__(self, *label: bytes | str | int) -> None:
        digest = hashlib.sha256(b"mynacard-test-drbg-v1")
        for part in label:
            if isinstance(part, bytes):
                kind, raw = b"b", part
            elif isinstance(part, str):
                kind, raw = b"s", part.encode()
            else:
                kind, raw = b"i", str(int(part)).encode()
            digest.update(kind + len(raw).to_bytes(4, "big") + raw)
        self._key = digest.digest()
        self._counter = 0
        self._buffer = b""

    def _blocks(self, first: int, end: int) -> bytes:
        """Blocks ``first`` … ``end - 1`` of the stream: SHA-256(key ‖ counter as 8 bytes)."""
        key, sha256 = self._key, hashlib.sha256
        return b"".join([sha256(key + i.to_bytes(8, "big")).digest() for i in range(first, end)])

    def bytes_at(self, offset: int, n: int) -> bytes:
        """The ``n`` bytes at ``offset`` of the stream, without moving it (counter mode allows it).

        ``bytes_at(r.position, n)`` is what ``r.bytes(n)`` would return. ValueError if negative.
        """
        if offset < 0 or n < 0:
            raise ValueError("offset and n must not be negative")
        first = offset // 32
        blocks = self._blocks(first, (offset + n + 31) // 32)
        start = offset - first * 32
        return blocks[start : start + n]

    def bytes(self, n: int) -> bytes:
        """The next ``n`` bytes of the stream."""
        buffer = self._buffer
        if len(buffer) < n:  # the blocks still needed, in one go
            first = self._counter
            self._counter = first + (n - len(buffer) + 31) // 32
            buffer += self._blocks(first, self._counter)
        self._buffer = buffer[n:]
        return buffer[:n]

    @property
    def position(self) -> int:
        """How many bytes have been taken from the stream so far."""
        return self._counter * 32 - len(self._buffer)

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)`` (rejection sampling, no modulo bias)."""
        if n <= 0:
            raise ValueError("below() needs a positive bound")
        bits = (n - 1).bit_length()
        nbytes = max(1, (bits + 7) // 8)
        while True:
            value = int.from_bytes(self.bytes(nbytes), "big") >> (nbytes * 8 - bits)
            if value < n:
                return value

    def randint(self, low: int, high: int) -> int:
        """A uniform integer in ``[low, high]``."""
        return low + self.below(high - low + 1)

    def choice(self, items: Sequence[_T]) -> _T:
        """One of ``items``, uniformly (:meth:`below` of its length); ValueError for an empty
        sequence."""
        return items[self.below(len(items))]

    def digits(self, n: int) -> str:
        """``n`` uniform ASCII decimal digits, as a string (a leading 0 possible)."""
        return "".join(str(self.below(10)) for _ in range(n))
