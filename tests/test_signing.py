"""The card's private-key operation: a DigestInfo through cryptography, anything else through GMP,
the same bytes as the textbook RSASSA-PKCS1-v1_5 either way (RFC 8017 §8.2, §9.2)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from hypothesis import given
from hypothesis import strategies as st

from card_emulator import pki
from card_emulator.signing import DIGEST_INFO_PREFIXES, CardKey, digest_info_algorithm

KEY = pki.deterministic_rsa_key(b"test_signing key")
CARD_KEY = CardKey(KEY)


def textbook_pkcs1_v15(key: rsa.RSAPrivateKey, block: bytes) -> bytes:
    """EMSA-PKCS1-v1_5 type 01 and m^d mod n, in plain Python (the definition, slowly)."""
    numbers = key.private_numbers()
    k = (key.key_size + 7) // 8
    padded = b"\x00\x01" + b"\xff" * (k - len(block) - 3) + b"\x00" + block
    n = numbers.public_numbers.n
    return pow(int.from_bytes(padded, "big"), numbers.d, n).to_bytes(k, "big")


def _digest(algorithm: hashes.HashAlgorithm, message: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(message)
    return h.finalize()


@pytest.mark.parametrize("prefix", list(DIGEST_INFO_PREFIXES), ids=lambda p: p.hex()[-8:])
def test_every_digest_info_signs_as_the_textbook_says(prefix: bytes) -> None:
    algorithm = DIGEST_INFO_PREFIXES[prefix]
    digest = _digest(algorithm, b"message")
    block = prefix + digest
    assert digest_info_algorithm(block) is not None
    signature = CARD_KEY.sign_block(block)
    assert signature == textbook_pkcs1_v15(KEY, block)
    KEY.public_key().verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(algorithm))


def test_blocks_that_are_not_a_digest_info_take_the_raw_path_with_the_same_result() -> None:
    sha256_info = bytes.fromhex("3031300d060960864801650304020105000420")
    absent_parameters = bytes.fromhex("302f300b0609608648016503040201") + b"\x04\x20" + bytes(32)
    for block in (
        hashlib.sha256(b"bare hash").digest(),
        sha256_info + bytes(31),  # digest one byte short
        sha256_info + bytes(33),
        absent_parameters,  # DER allows it; not the RFC 8017 encoding: signed as given
        b"",
        b"\x00" * 245,
    ):
        assert digest_info_algorithm(block) is None
        assert CARD_KEY.sign_block(block) == textbook_pkcs1_v15(KEY, block)


@given(st.binary(max_size=245))
def test_any_block_recovers_from_its_signature(block: bytes) -> None:
    signature = CARD_KEY.sign_block(block)
    recovered = KEY.public_key().recover_data_from_signature(signature, padding.PKCS1v15(), None)
    assert recovered == block


def test_a_block_too_long_for_the_key_is_refused() -> None:
    with pytest.raises(ValueError):
        CARD_KEY.sign_block(bytes(246))


def _der(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_a_key_is_parsed_from_der_and_inconsistent_numbers_are_refused() -> None:
    assert CardKey.from_der(_der(KEY)).sign_block(b"x") == CARD_KEY.sign_block(b"x")
    good = KEY.private_numbers()
    p, q, d = good.p, good.q, good.d
    wrong = [
        {"iqmp": good.iqmp + 1},
        {"dmp1": good.dmp1 ^ 2},
        {"d": d + 2, "dmp1": (d + 2) % (p - 1), "dmq1": (d + 2) % (q - 1)},
    ]
    for change in wrong:
        fields = {
            "p": p,
            "q": q,
            "d": d,
            "dmp1": good.dmp1,
            "dmq1": good.dmq1,
            "iqmp": good.iqmp,
            "public_numbers": good.public_numbers,
            **change,
        }
        broken = rsa.RSAPrivateNumbers(**fields).private_key(unsafe_skip_rsa_key_validation=True)
        with pytest.raises(ValueError):
            CardKey(broken)
        with pytest.raises(ValueError):
            CardKey.from_der(_der(broken))
    with pytest.raises(ValueError):
        CardKey.from_der(_der(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ValueError):
        CardKey.from_der(b"\x30\x03\x02\x01\x00")
