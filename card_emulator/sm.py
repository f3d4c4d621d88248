"""Secure messaging (セキュアメッセージング) of 券面入力補助AP, as measured on cards (card-interface.md §5.7).

Only the text AP offers it, and only after its PIN (0011) was verified in clear:

* ``80 AE 00 00`` SET SESSION KEY, extended Lc, a 256-byte RSA-OAEP (SHA-256, MGF1-SHA-256)
  cryptogram under the EF 0006 key of ``A0 22 80 20 <32-byte seed>``; the session key is
  seed[0:16] (AES-128). Before the PIN: 6982 (照合番号A does not count). Cryptogram ≥ modulus:
  6F00. Anything that does not decrypt to exactly that form (``A0 {81 …}``, ``A0 {80, 81}``, a
  wrong key): 6A80.
* Then CLA ``08`` (confidentiality, no header authentication) on SELECT FILE (EF), VERIFY and
  READ BINARY. Command N (N = 1, 2, … since SET SESSION KEY, counted on every SM command, also
  the ones the application refuses; plain commands in between do not count) uses
  IV = AES-128(key, N as 16 big-endian bytes), AES-128-CBC, ISO/IEC 7816-4 padding (80 00…).
  SELECT and VERIFY carry ``86 L 01 ‖ cryptogram``; READ BINARY carries ``96 03 00 <Le, 2 bytes>``
  (0: the rest of the file). Response data come back as ``86 L 01 ‖ cryptogram`` under the same IV;
  status words are plain.
* A cryptogram that does not decrypt to valid padding (a wrong counter), a wrong or extra data
  object: 6988, and the session is gone: every later SM command answers 69FC until an application
  is selected again. CLA ``0C`` (header authentication, which needs a checksum key this session
  never has): 6987, and the session ends too (our choice; the card's later state is not public).
  Other instructions under SM: 6882 (our choice).

Sources: myna-card ``src/sm.rs`` and ``src/ap/text.rs`` (measured on a card).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from apdu import CommandApdu, StatusWord
from apdu.tlv import TlvError, decode_all, encode_tlv
from card_emulator.errors import CardError
from card_emulator.rules import SESSION_KEY_LOCATION

if TYPE_CHECKING:
    from card_emulator.apps.base import Context

__all__ = [
    "BLOCK",
    "SmSession",
    "decrypt",
    "encrypt",
    "iv_for",
    "pad",
    "secure_command",
    "set_session_key",
    "unpad",
]

SW = StatusWord
BLOCK = 16
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@dataclass
class SmSession:
    """An open session: the AES-128 key and the number the next SM command must use."""

    key: bytes
    counter: int = 1
    broken: bool = False  # after 6988/6987: every SM command answers 69FC

    def __repr__(self) -> str:  # never show the key
        return f"SmSession(counter={self.counter}, broken={self.broken})"


def pad(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding: ``80`` then ``00`` to a whole block, always added."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % BLOCK)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 7816-4 padding; ValueError if there is none."""
    stripped = data.rstrip(b"\x00")
    if not data or len(data) % BLOCK or not stripped.endswith(b"\x80"):
        raise ValueError("no ISO/IEC 7816-4 padding")
    return stripped[:-1]


def _aes_cbc(key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def iv_for(key: bytes, counter: int) -> bytes:
    """The IV of command ``counter``: AES-128 of the counter as 16 big-endian bytes."""
    encryptor = _aes_cbc(key, bytes(BLOCK)).encryptor()
    return encryptor.update(counter.to_bytes(BLOCK, "big")) + encryptor.finalize()


def encrypt(key: bytes, counter: int, data: bytes) -> bytes:
    """Pad and encrypt ``data`` for command ``counter`` (AES-128-CBC)."""
    encryptor = _aes_cbc(key, iv_for(key, counter)).encryptor()
    return encryptor.update(pad(data)) + encryptor.finalize()


def decrypt(key: bytes, counter: int, cryptogram: bytes) -> bytes:
    """Decrypt and unpad; ValueError if it is not whole blocks or the padding is wrong."""
    if not cryptogram or len(cryptogram) % BLOCK:
        raise ValueError("a cryptogram is whole AES blocks")
    decryptor = _aes_cbc(key, iv_for(key, counter)).decryptor()
    return unpad(decryptor.update(cryptogram) + decryptor.finalize())


def set_session_key(command: CommandApdu, ctx: Context, pin_verified: bool) -> bytes:
    """SET SESSION KEY (``80 AE 00 00``) in the text AP: opens a session in ``ctx.session``."""
    ctx.note.action = "set_session_key"
    if command.p1p2 != 0x0000:
        raise CardError(SW.INCORRECT_P1P2, "SET SESSION KEY takes P1P2 = 0000")
    if not pin_verified:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "VERIFY the PIN (0011) in clear first")
    key = ctx.memory.private_key(*SESSION_KEY_LOCATION)
    size = key.key_size // 8
    if len(command.data) != size:
        raise CardError(SW.WRONG_LENGTH, f"the cryptogram is {size} bytes (extended Lc)")
    if int.from_bytes(command.data, "big") >= key.public_key().public_numbers().n:
        raise CardError(SW.NO_PRECISE_DIAGNOSIS, "cryptogram not below the modulus")
    try:
        message = key.decrypt(command.data, _OAEP)
    except ValueError:
        raise CardError(SW.INCORRECT_DATA, "the cryptogram does not decrypt (OAEP)") from None
    if len(message) != 36 or message[:4] != b"\xa0\x22\x80\x20":
        raise CardError(SW.INCORRECT_DATA, "expected A0 22 80 20 <32 bytes>: encryption key only")
    ctx.session.sm = SmSession(key=message[4:20])
    return b""


Runner = Callable[[CommandApdu], bytes]


def secure_command(command: CommandApdu, ctx: Context, run: Runner) -> bytes:
    """One CLA 08/0C command of the text AP: unwrap, ``run`` the plain command, wrap its answer."""
    ctx.note.action = "secure_messaging"
    session = ctx.session.sm
    if session is None or session.broken:
        if command.ins == 0xA4 and session is None:
            raise CardError(SW.SECURE_MESSAGING_NOT_SUPPORTED, "no secure-messaging session")
        raise CardError(SW.SM_SESSION_BROKEN, "no secure-messaging session")
    if command.cla & 0x0C == 0x0C:
        session.broken = True
        raise CardError(SW.SM_DATA_MISSING, "no checksum key: header authentication impossible")
    counter = session.counter
    session.counter += 1  # every SM command counts, also the refused ones
    if (command.ins, command.p1) not in ((0xA4, 0x02), (0x20, 0x00)) and command.ins != 0xB0:
        raise CardError(SW.SECURE_MESSAGING_NOT_SUPPORTED, "not offered under secure messaging")
    plain = _unwrap(command, session, counter)
    data = run(plain)
    if not data:
        return b""
    return encode_tlv(0x86, b"\x01" + encrypt(session.key, counter, data))


def _unwrap(command: CommandApdu, session: SmSession, counter: int) -> CommandApdu:
    """The plain command inside ``command``; 6988 (and the session ends) when it cannot be."""
    try:
        objects = decode_all(command.data, skip_padding=False)
        if command.ins == 0xB0:
            (expected,) = objects
            if expected.tag != 0x96 or len(expected.value) != 3 or expected.value[0] != 0:
                raise ValueError("READ BINARY carries 96 03 00 <Le>")
            le = int.from_bytes(expected.value[1:], "big") or 65536
            return CommandApdu(0x00, 0xB0, command.p1, command.p2, le=le, extended=True)
        if not objects and command.ins == 0x20:  # the tries-left query has nothing to hide
            return CommandApdu(0x00, 0x20, command.p1, command.p2)
        (cryptogram,) = objects
        if cryptogram.tag != 0x86 or cryptogram.value[:1] != b"\x01":
            raise ValueError("expected 86 L 01 <cryptogram>")
        data = decrypt(session.key, counter, cryptogram.value[1:])
    except (ValueError, TlvError):  # also a wrong number of objects
        session.broken = True
        raise CardError(SW.SM_DATA_INCORRECT, "secure-messaging data objects wrong") from None
    return CommandApdu(0x00, command.ins, command.p1, command.p2, data=data)
