"""公的個人認証AP (JPKI AP), D392F000260100000001: the two certificates and their keys (§4)."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from apdu import CommandApdu, StatusWord
from card_emulator.apps.base import (
    COMMON_HANDLERS,
    Application,
    Context,
    Handler,
    change_reference_data_handler,
    refuse,
)
from card_emulator.errors import CardError
from card_emulator.rules import AppName, FileKind
from card_emulator.signing import CardKey

SW = StatusWord
PKCS1_MAX_INPUT = 256 - 11  # k - 11 for RSA-2048 (RFC 8017 §9.2)
_SHA256 = hashes.SHA256()
_PREHASHED_SHA256 = utils.Prehashed(_SHA256)
_PKCS1 = padding.PKCS1v15()
_PSS = padding.PSS(mgf=padding.MGF1(_SHA256), salt_length=padding.PSS.DIGEST_LENGTH)


def compute_signature(key: CardKey, scheme: int, data: bytes) -> bytes:
    """The signature schemes of P1 00–05 (card-interface.md §2.6, probed on a card by myna-card).

    00: PKCS#1 v1.5 over the data as given (clients send a DigestInfo); 01: over SHA-256(data), no
    DigestInfo; 02/04: PKCS#1 v1.5 / PSS over a SHA-256 hash; 03/05: the same, the card hashing.
    ``CardError`` 6700 for a wrong length, 6A86 for another P1.
    """
    if scheme == 0x00:
        if len(data) > PKCS1_MAX_INPUT:
            raise CardError(SW.WRONG_LENGTH, f"at most {PKCS1_MAX_INPUT} bytes to sign")
        return key.sign_block(data)
    if scheme == 0x01:
        return key.sign_block(hashlib.sha256(data).digest())
    if scheme in (0x02, 0x04):
        if len(data) != 32:
            raise CardError(SW.WRONG_LENGTH, "a SHA-256 hash is 32 bytes")
        pad = _PKCS1 if scheme == 0x02 else _PSS
        return key.sign(data, pad, _PREHASHED_SHA256)
    if scheme == 0x03:
        return key.sign(data, _PKCS1, _SHA256)
    if scheme == 0x05:
        return key.sign(data, _PSS, _SHA256)
    raise CardError(SW.INCORRECT_P1P2, "P1 must be a signature scheme 00-05")


def _compute_digital_signature(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    ctx.note.action = "sign"
    if command.p1 > 0x05:
        raise CardError(SW.INCORRECT_P1P2, "P1 must be a signature scheme 00-05")
    if command.p2 == 0x80:
        if ctx.session.ef is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF, "select a key EF first")
        fid = ctx.session.ef
    elif 0x81 <= command.p2 <= 0x9E:  # 80 + SFI names the key without a SELECT (§2.6)
        fid = command.p2 & 0x1F
    else:
        raise CardError(SW.INCORRECT_P1P2, "P2 must be 80 or 80 + a key's short EF identifier")
    rule = app.file_rule(ctx, fid)
    if rule.kind is not FileKind.PRIVATE_KEY:
        raise CardError(SW.COMMAND_INCOMPATIBLE, f"EF {fid:04X} is not a private key")
    (pin,) = rule.opened_by
    ctx.note.pin = pin
    if pin not in ctx.session.verified:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, f"the key needs a VERIFY of {pin.value}")
    if not command.data:
        raise CardError(SW.WRONG_LENGTH, "nothing to sign")
    return compute_signature(ctx.memory.card_key(app.name, fid), command.p1, command.data)


def _terminal_certificate(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    """``80 A2 P1 P2``: the card checks a terminal's CV certificate against key EF 0016 (§2.7).

    P1P2 00 00, 00 AE, 80 00, 00 B6 answer 6A86 on a card (myna-card, §2.7). P1P2 00 C1 carries
    the certificate's signature (``5F 37 82 01 00``); data that fails the signature check answers
    6700 — a client's published claim, AokiApp/jsapdu ``examples/mynacard-e2e/randr.e2e.test.ts``
    (256 zero bytes → 6700, its authors' hardware test). The emulator holds no terminal CA key, so no
    certificate can pass: every 00 C1 answers 6700. Other P1P2: 6982 (no source; terminal
    authentication is not offered).
    """
    if command.p1p2 in (0x0000, 0x00AE, 0x8000, 0x00B6):
        raise CardError(SW.INCORRECT_P1P2, "not a terminal-certificate mode")
    if command.p1p2 == 0x00C1:
        raise CardError(SW.WRONG_LENGTH, "the CV certificate fails its signature check")
    raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "terminal authentication is not offered")


class JpkiApplication(Application):
    name = AppName.JPKI
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {
        **COMMON_HANDLERS,
        (0x00, 0x24): change_reference_data_handler,
        (0x80, 0x2A): _compute_digital_signature,
        (0x80, 0xA2): _terminal_certificate,
        (0x80, 0xAE): refuse(SW.SECURITY_STATUS_NOT_SATISFIED, "no secure messaging in JPKI AP"),
    }
