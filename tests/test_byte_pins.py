"""Generated cards stay byte-identical: keys, certificates, EFs, records, metadata, signatures.

The pins in ``golden/card_digests.json`` were computed before any speed work on key generation,
signing and card creation (issue 10); every such change must keep them. Entries added later (a new
EF, a new key) are allowed here and pinned by regenerating (see ``golden/card_digests.py``); a pinned
entry that changes or disappears fails.
"""

from __future__ import annotations

import json

import pytest

from tests.golden.card_digests import CONFIGS, PINS_FILE, config_digests, fixed_key_digests

PINNED: dict[str, dict[str, str]] = json.loads(PINS_FILE.read_text())


def _compare(name: str, actual: dict[str, str]) -> None:
    expected = PINNED[name]
    changed = sorted(k for k in expected if k in actual and actual[k] != expected[k])
    missing = sorted(k for k in expected if k not in actual)
    assert not changed and not missing, f"{name}: changed {changed}, missing {missing}"


def test_every_configuration_is_pinned() -> None:
    assert set(PINNED) == {*CONFIGS, "fixed"}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_card_bytes_are_pinned(name: str) -> None:
    _compare(name, config_digests(name))


def test_fixed_test_keys_are_pinned() -> None:
    _compare("fixed", fixed_key_digests())
