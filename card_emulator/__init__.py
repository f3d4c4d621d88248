"""A software My Number Card (マイナンバーカード) chip for testing card-reading software.

Every holder is synthetic and every key a test key: nothing here is a real identity.
"""

from __future__ import annotations

from card_emulator.card import DEFAULT_ATR, Card
from card_emulator.errors import (
    CardError,
    CardFileError,
    CardInUseError,
    EmulatorError,
    IssuerError,
)
from card_emulator.rules import AppName, PinName

__all__ = [
    "DEFAULT_ATR",
    "AppName",
    "Card",
    "CardError",
    "CardFileError",
    "CardInUseError",
    "EmulatorError",
    "IssuerError",
    "PinName",
]
