"""Small helpers for talking to a card in tests: the public kit's client, re-exported.

The project's tests use what users get (``card_emulator.testing``); this module stays so that
``from tests.helpers import ...`` keeps working.
"""

from __future__ import annotations

from card_emulator.testing.client import (
    query,
    read_ef,
    select_app,
    select_ef,
    send,
    sw_of,
    verify,
    wrong_value,
)

__all__ = ["query", "read_ef", "select_app", "select_ef", "send", "sw_of", "verify", "wrong_value"]
