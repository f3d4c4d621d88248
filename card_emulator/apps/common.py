"""共通カードAP (common card AP, 本人確認業務用), D3921000310001010100 (card-interface.md §7.2).

Record EFs 0001 (serial, 全国地方公共団体コード, expiry) and 0002 (a key reference), both free; PIN
001C with its own counter (changed with JICSAP CHANGE KEY ``80 32``); key 0019, the one key of the
card that answers INTERNAL AUTHENTICATE, with no PIN. SET SESSION KEY answers 66F1 (myna-card
``common.rs``, measured).
"""

from __future__ import annotations

from typing import ClassVar

from apdu import StatusWord
from card_emulator.apps.base import (
    COMMON_HANDLERS,
    Application,
    Handler,
    change_key_handler,
    refuse,
)
from card_emulator.rules import AppName


class CommonApplication(Application):
    """The common card AP."""

    name = AppName.COMMON
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {
        **COMMON_HANDLERS,
        (0x80, 0x32): change_key_handler,
        (0x80, 0xAE): refuse(
            StatusWord.SECURITY_ENVIRONMENT_FAULTY, "no session-key delivery in this AP"
        ),
    }
