"""Hypothesis strategies for the ``apdu`` package: the public kit's, re-exported.

``card_emulator.testing.strategies`` holds them (and the card-level ones); this module stays so
that ``from tests.strategies import ...`` keeps working.
"""

from __future__ import annotations

from card_emulator.testing.strategies import (
    command_apdus,
    data_fields,
    primitive_tlvs,
    raw_commands,
    tags,
    tlvs,
)

__all__ = ["command_apdus", "data_fields", "primitive_tlvs", "raw_commands", "tags", "tlvs"]
