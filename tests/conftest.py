"""Shared fixtures and hypothesis profiles (`HYPOTHESIS_PROFILE=ci` in CI: more examples)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from card_emulator import Card
from card_emulator.testing.plugin import MynacardFactory

settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

SEED = 7


@pytest.fixture
def card(mynacard_factory: MynacardFactory) -> Card:
    """A fresh in-memory card of a fixed seed, powered on. Its initial PINs: ``card.created_pins``.

    Made by the public kit's ``mynacard_factory``: a failing test shows its last exchanges."""
    return mynacard_factory(seed=SEED)
