"""The card's RSA private-key operation: PKCS#1 v1.5 over the block a client sends, at library speed.

COMPUTE DIGITAL SIGNATURE with P1 = 00 (card-interface.md §2.6) signs the data field as given: the
card pads it (EMSA-PKCS1-v1_5, block type 01) and applies the private key. What clients send there
is almost always a complete DigestInfo (OpenSC, jpki-rs, jsapdu). When the block is one of the
DigestInfo encodings of RFC 8017 §9.2 (note 1) — the prefix for a hash algorithm followed by a
digest of that algorithm's length — the signature is exactly what ``cryptography`` computes for
that digest with ``PKCS1v15`` and ``Prehashed``, so it is handed to it (OpenSSL's constant-time,
blinded CRT). Any other block (a bare hash, a DigestInfo with absent parameters, arbitrary bytes)
gets the same arithmetic done here with GMP (gmpy2) over the CRT values: ``cryptography`` has no
raw mode. Both give identical bytes for a DigestInfo (tests/test_signing.py).

A :class:`CardKey` is parsed and checked once per card; its signatures then cost what the library
costs.
"""

from __future__ import annotations

import gmpy2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.serialization import load_der_private_key

__all__ = ["DIGEST_INFO_PREFIXES", "CardKey", "digest_info_algorithm"]

# RFC 8017 §9.2 note 1: DER of DigestInfo up to the digest, per hash algorithm (NULL parameters).
DIGEST_INFO_PREFIXES: dict[bytes, hashes.HashAlgorithm] = {
    bytes.fromhex("3020300c06082a864886f70d020505000410"): hashes.MD5(),
    bytes.fromhex("3021300906052b0e03021a05000414"): hashes.SHA1(),
    bytes.fromhex("302d300d06096086480165030402040500041c"): hashes.SHA224(),
    bytes.fromhex("3031300d060960864801650304020105000420"): hashes.SHA256(),
    bytes.fromhex("3041300d060960864801650304020205000430"): hashes.SHA384(),
    bytes.fromhex("3051300d060960864801650304020305000440"): hashes.SHA512(),
    bytes.fromhex("302d300d06096086480165030402050500041c"): hashes.SHA512_224(),
    bytes.fromhex("3031300d060960864801650304020605000420"): hashes.SHA512_256(),
}
_PREFIX_LENGTHS = sorted({len(prefix) for prefix in DIGEST_INFO_PREFIXES})
_PKCS1 = padding.PKCS1v15()
_PREHASHED = {prefix: utils.Prehashed(alg) for prefix, alg in DIGEST_INFO_PREFIXES.items()}


def digest_info_algorithm(block: bytes) -> tuple[bytes, utils.Prehashed] | None:
    """``(digest, Prehashed(algorithm))`` if ``block`` is exactly a DigestInfo of RFC 8017 §9.2
    note 1 (prefix + a digest of the algorithm's length), else None."""
    for length in _PREFIX_LENGTHS:
        prehashed = _PREHASHED.get(block[:length])
        if prehashed is not None and len(block) == length + prehashed.digest_size:
            return block[length:], prehashed
    return None


class CardKey:
    """One RSA private key of the card, parsed and checked once: what signing uses.

    ``key`` is the ``cryptography`` key (for the library's own schemes); the CRT values are kept
    as GMP integers for blocks that are not a DigestInfo. Immutable, so clones of a card share it.
    """

    __slots__ = ("_dmp1", "_dmq1", "_iqmp", "_p", "_q", "key", "size")

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        """Wrap ``key`` after checking that its numbers are consistent (ValueError if not):
        n = p·q, e·d ≡ 1 modulo p - 1 and q - 1, and the CRT values derive from p, q, d."""
        numbers = key.private_numbers()
        p, q, d = numbers.p, numbers.q, numbers.d
        e, n = numbers.public_numbers.e, numbers.public_numbers.n
        if p < 3 or q < 3 or p * q != n:
            raise ValueError("RSA key: n is not p·q")
        if (e * d) % (p - 1) != 1 or (e * d) % (q - 1) != 1:
            raise ValueError("RSA key: d is not the inverse of e")
        if (
            numbers.dmp1 != d % (p - 1)
            or numbers.dmq1 != d % (q - 1)
            or (numbers.iqmp * q) % p != 1
        ):
            raise ValueError("RSA key: inconsistent CRT values")
        self.key = key
        self.size = (key.key_size + 7) // 8  # bytes of a signature
        self._p, self._q = gmpy2.mpz(p), gmpy2.mpz(q)
        self._dmp1, self._dmq1 = gmpy2.mpz(numbers.dmp1), gmpy2.mpz(numbers.dmq1)
        self._iqmp = gmpy2.mpz(numbers.iqmp)

    @classmethod
    def from_der(cls, der: bytes) -> CardKey:
        """A PKCS#8 (or PKCS#1) DER RSA private key, as the card's store keeps it.

        ``cryptography``'s own validation (about 50 ms: OpenSSL re-proves both primes) is replaced
        by the consistency checks of :class:`CardKey` (microseconds), which catch a damaged key.
        ValueError if the DER is not an RSA private key or its numbers do not agree.
        """
        key = load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA private key")
        return cls(key)

    def sign_block(self, block: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 over ``block`` as given (EMSA-PKCS1-v1_5, type 01; RFC 8017 §9.2):
        ``size`` bytes. ValueError if the block is longer than ``size`` - 11 bytes."""
        if len(block) > self.size - 11:
            raise ValueError(f"at most {self.size - 11} bytes to sign")
        recognised = digest_info_algorithm(block)
        if recognised is not None:
            digest, prehashed = recognised
            return self.key.sign(digest, _PKCS1, prehashed)
        padded = b"\x00\x01" + b"\xff" * (self.size - len(block) - 3) + b"\x00" + block
        m = gmpy2.mpz(int.from_bytes(padded, "big"))
        p, q = self._p, self._q
        s1 = gmpy2.powmod(m % p, self._dmp1, p)
        s2 = gmpy2.powmod(m % q, self._dmq1, q)
        s = s2 + q * ((self._iqmp * (s1 - s2)) % p)
        return int(s).to_bytes(self.size, "big")

    def sign(
        self,
        data: bytes,
        pad: padding.AsymmetricPadding,
        algorithm: utils.Prehashed | hashes.HashAlgorithm,
    ) -> bytes:
        """The library's signature of ``data`` (``rsa.RSAPrivateKey.sign``)."""
        return self.key.sign(data, pad, algorithm)
