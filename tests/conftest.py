"""Shared fixtures and hypothesis profiles (`HYPOTHESIS_PROFILE=ci` in CI: more examples)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from card_emulator import Card

settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

SEED = 7


@pytest.fixture
def card() -> Iterator[Card]:
    """A fresh in-memory card of a fixed seed, powered on. Its initial PINs: ``card.created_pins``."""
    with Card.create(None, seed=SEED) as fresh:
        fresh.power_on()
        yield fresh
