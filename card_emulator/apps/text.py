"""券面事項入力補助AP (text input helper AP), D3921000310001010408: the holder's data as text (§5)."""

from __future__ import annotations

from typing import ClassVar

from apdu import CommandApdu, StatusWord
from card_emulator.apps.base import (
    COMMON_HANDLERS,
    Application,
    Context,
    Handler,
    change_reference_data_handler,
)
from card_emulator.apps.jpki import compute_signature
from card_emulator.errors import CardError
from card_emulator.rules import AppName, FileKind, PinName

SW = StatusWord
AP_KEY_FID = 0x0013  # the AP's own signing key: "is this card genuine" challenges, no credential


def _sign_with_ap_key(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    ctx.note.action = "sign"
    if command.p1 != 0x00 or command.p2 != 0x00:
        raise CardError(SW.INCORRECT_P1P2, "the AP key signs with 80 2A 00 00")
    if not ctx.memory.has_file(app.name, AP_KEY_FID, FileKind.PRIVATE_KEY):
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "this card has no AP signing key")
    if not command.data:
        raise CardError(SW.WRONG_LENGTH, "nothing to sign")
    return compute_signature(ctx.memory.card_key(app.name, AP_KEY_FID), 0x00, command.data)


def _set_session_key(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    # Secure messaging opens only after the PIN in clear (§5.7); this emulator does not offer it.
    if PinName.TEXT_INPUT_HELPER not in ctx.session.verified:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "VERIFY the PIN first")
    raise CardError(SW.CONDITIONS_NOT_SATISFIED, "secure messaging is not emulated")


class TextApplication(Application):
    name = AppName.TEXT
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {
        **COMMON_HANDLERS,
        (0x00, 0x24): change_reference_data_handler,
        (0x80, 0x2A): _sign_with_ap_key,
        (0x80, 0xAE): _set_session_key,
    }
