"""券面事項確認AP (card-surface AP), D3921000310001010402: the printed card face as data (§6).

EF 0001 (age record) opens with the birth-date key 0011, EF 0002–0004 and 0006 with 照合番号A (0013)
or B (0012), EF 0005 (the My Number image) with A only; 0003 and 0004 are free. The card key 001A
signs challenges with no credential (``80 2A 00 00``). No secure messaging: SET SESSION KEY answers
66F1 whatever was verified (myna-card ``surface.rs``, measured).
"""

from __future__ import annotations

from typing import ClassVar

from apdu import StatusWord
from card_emulator.apps.base import (
    COMMON_HANDLERS,
    Application,
    Handler,
    change_reference_data_handler,
    refuse,
    sign_with_ap_key,
)
from card_emulator.rules import AppName


class SurfaceApplication(Application):
    """The card-surface AP. Its keys cannot be changed by the holder (CHANGE answers 6985)."""

    name = AppName.SURFACE
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {
        **COMMON_HANDLERS,
        (0x00, 0x24): change_reference_data_handler,
        (0x80, 0x2A): sign_with_ap_key,
        (0x80, 0xAE): refuse(
            StatusWord.SECURITY_ENVIRONMENT_FAULTY, "no session-key delivery in this AP"
        ),
    }
