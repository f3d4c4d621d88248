"""券面事項入力補助AP (text input helper AP), D3921000310001010408: the holder's data as text (§5).

Besides the common instructions: the AP key 0013 signs challenges with no credential
(``80 2A 00 00``), and SET SESSION KEY opens secure messaging after the PIN (§5.7,
``card_emulator.sm``).
"""

from __future__ import annotations

from typing import ClassVar

from apdu import CommandApdu
from card_emulator.apps.base import (
    COMMON_HANDLERS,
    Application,
    Context,
    Handler,
    change_reference_data_handler,
    sign_with_ap_key,
)
from card_emulator.rules import AppName, PinName
from card_emulator.sm import set_session_key

AP_KEY_FID = 0x0013  # the AP's own signing key: "is this card genuine" challenges, no credential


def _set_session_key(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    # Only the PIN in clear opens it; 照合番号A or B does not (myna-card text.rs, measured).
    return set_session_key(command, ctx, PinName.TEXT_INPUT_HELPER in ctx.session.verified)


class TextApplication(Application):
    """The text AP: EFs 0001–0008, PIN 0011, 照合番号A/B 0014/0015, 0012 blocked, AP key 0013."""

    name = AppName.TEXT
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {
        **COMMON_HANDLERS,
        (0x00, 0x24): change_reference_data_handler,
        (0x80, 0x2A): sign_with_ap_key,
        (0x80, 0xAE): _set_session_key,
    }
