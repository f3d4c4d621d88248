"""A terminal's side of the text AP's secure messaging, written from card-interface.md §5.7 alone.

Independent of ``card_emulator.sm`` on purpose: the card is checked against this. OAEP can be
given a fixed seed (RFC 8017 §7.1.1 written out) so golden transcripts stay byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from apdu.tlv import decode_all, decode_tlv


def parse_session_key_file(ef0006: bytes) -> rsa.RSAPublicKey:
    """Text EF 0006: ``A1 { 90 e, 91 n }``."""
    outer, _ = decode_tlv(ef0006)
    assert outer.tag == 0xA1
    parts = {t.tag: int.from_bytes(t.value, "big") for t in decode_all(outer.value)}
    return rsa.RSAPublicNumbers(parts[0x90], parts[0x91]).public_key()


def _mgf1(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def oaep_encrypt(key: rsa.RSAPublicKey, message: bytes, oaep_seed: bytes) -> bytes:
    """RSAES-OAEP (SHA-256, MGF1-SHA-256, empty label) with a given 32-byte seed."""
    numbers = key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    h_len = 32
    db = hashlib.sha256(b"").digest() + bytes(k - len(message) - 2 * h_len - 2) + b"\x01" + message
    masked_db = bytes(a ^ b for a, b in zip(db, _mgf1(oaep_seed, k - h_len - 1), strict=True))
    masked_seed = bytes(a ^ b for a, b in zip(oaep_seed, _mgf1(masked_db, h_len), strict=True))
    m = int.from_bytes(b"\x00" + masked_seed + masked_db, "big")
    return pow(m, numbers.e, numbers.n).to_bytes(k, "big")


def set_session_key_apdu(cryptogram: bytes) -> bytes:
    """``80 AE 00 00`` with an extended Lc (the cryptogram is 256 bytes)."""
    return b"\x80\xae\x00\x00\x00" + len(cryptogram).to_bytes(2, "big") + cryptogram


@dataclass
class Terminal:
    """The terminal's session state: key and the counter of the next SM command."""

    key: bytes
    counter: int = 1

    @classmethod
    def open(
        cls, key: rsa.RSAPublicKey, seed: bytes, oaep_seed: bytes = b"\x5a" * 32
    ) -> tuple[Terminal, bytes]:
        """The session and the SET SESSION KEY APDU that opens it."""
        assert len(seed) == 32
        message = b"\xa0\x22\x80\x20" + seed
        return cls(seed[:16]), set_session_key_apdu(oaep_encrypt(key, message, oaep_seed))

    def _iv(self, counter: int) -> bytes:
        encryptor = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        return encryptor.update(counter.to_bytes(16, "big")) + encryptor.finalize()

    def _crypt(self, data: bytes, counter: int, *, encrypt: bool) -> bytes:
        cipher = Cipher(algorithms.AES(self.key), modes.CBC(self._iv(counter)))
        worker = cipher.encryptor() if encrypt else cipher.decryptor()
        return worker.update(data) + worker.finalize()

    def wrap(self, plain: bytes) -> bytes:
        """The CLA 08 form of a plain SELECT EF / VERIFY / READ BINARY (short) APDU."""
        cla, ins, p1, p2 = plain[:4]
        assert cla == 0x00
        if ins == 0xB0:  # 96 03 00 <Le2>, 0 = the rest of the file; extended Lc and Le
            le = plain[4] if len(plain) == 5 else 0
            body = bytes([0x96, 0x03, 0x00, 0x00, le])
            return bytes([0x08, ins, p1, p2, 0x00, 0x00, len(body)]) + body + b"\x00\x00"
        if len(plain) == 4:  # the tries-left query: nothing to encrypt
            return bytes([0x08, ins, p1, p2])
        data = plain[5 : 5 + plain[4]]
        padded = data + b"\x80" + bytes(-(len(data) + 1) % 16)
        cryptogram = self._crypt(padded, self.counter, encrypt=True)
        obj = bytes([0x86, len(cryptogram) + 1, 0x01]) + cryptogram
        return bytes([0x08, ins, p1, p2, len(obj)]) + obj

    def send(self, transmit: Callable[[bytes], bytes], plain: bytes) -> tuple[bytes, int]:
        """Wrap, transmit, count, unwrap: (plain response data, SW)."""
        response = transmit(self.wrap(plain))
        counter = self.counter
        self.counter += 1
        data, sw = response[:-2], int.from_bytes(response[-2:], "big")
        if not data:
            return b"", sw
        obj, _ = decode_tlv(data)
        assert obj.tag == 0x86 and obj.value[0] == 0x01
        clear = self._crypt(obj.value[1:], counter, encrypt=False).rstrip(b"\x00")
        assert clear.endswith(b"\x80")
        return clear[:-1], sw
