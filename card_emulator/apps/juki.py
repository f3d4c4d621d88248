"""住基AP (resident registry AP), D3921000310001010401: PIN 001C and the 住民票コード (§7.1)."""

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

SW = StatusWord


class JukiApplication(Application):
    name = AppName.JUKI
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {
        **COMMON_HANDLERS,
        (0x80, 0x32): change_key_handler,  # JICSAP CHANGE KEY (§2.5)
        (0x80, 0xAE): refuse(SW.SECURITY_STATUS_NOT_SATISFIED, "住基ネット terminals only"),
    }
