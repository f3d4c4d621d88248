"""A software My Number Card (マイナンバーカード) chip for testing card-reading software.

Every holder is synthetic and every key a test key: nothing here is a real identity.

The names below are imported on first use (PEP 562 ``__getattr__``): ``import card_emulator`` (or
any of its submodules, such as the CLI's) does not load the card, its keys and ``cryptography``
until ``card_emulator.Card`` is asked for. ``from card_emulator import Card`` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from card_emulator.card import DEFAULT_ATR, Card
    from card_emulator.errors import (
        CardError,
        CardFileError,
        CardInUseError,
        EmulatorError,
        IssuerError,
    )
    from card_emulator.rules import AppName, PinName

# Public name -> the module that defines it.
_LAZY = {
    "DEFAULT_ATR": "card_emulator.card",
    "Card": "card_emulator.card",
    "CardError": "card_emulator.errors",
    "CardFileError": "card_emulator.errors",
    "CardInUseError": "card_emulator.errors",
    "EmulatorError": "card_emulator.errors",
    "IssuerError": "card_emulator.errors",
    "AppName": "card_emulator.rules",
    "PinName": "card_emulator.rules",
}

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


def __getattr__(name: str) -> Any:
    """The public names, imported from their module on first use; AttributeError for others."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'card_emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
