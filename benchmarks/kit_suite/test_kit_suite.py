"""A user's suite of 55 card tests, for `benchmarks/bench_kit.py` (serial against `-n 2`).

Not part of the project's tests (pytest collects `tests/` and `examples/` only): it is what a team
testing its client would write with the mynacard plugin — a fresh card per test, a few seeds. With
``MYNACARD_BENCH_LATENCY=contact`` every card answers at a real card's pace (the ``contact``
latency profile of ``card_emulator.latency``), as a suite that tests timeouts would run it.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from card_emulator import AppName, PinName
from card_emulator.testing import Latency, query, read_ef, select_app, send, sign, verify
from card_emulator.testing.plugin import MynacardFactory

PROFILE = os.environ.get("MYNACARD_BENCH_LATENCY")


def _card(factory: MynacardFactory, **keywords: Any) -> Any:
    """The test's card, or its slot answering at the profile's pace."""
    card = factory(**keywords)
    return factory.slot(card, [Latency(profile=PROFILE)]) if PROFILE else card


def _pins(card: Any) -> dict[PinName, str]:
    return dict(getattr(card, "card", card).created_pins or {})


SEEDS = range(5)
DIGEST_INFO = (
    bytes.fromhex("3031300D060960864801650304020105000420") + hashlib.sha256(b"b").digest()
)


@pytest.mark.parametrize("seed", SEEDS)
def test_reads_the_user_auth_certificate(mynacard_factory: MynacardFactory, seed: int) -> None:
    card = _card(mynacard_factory, seed=seed)
    select_app(card, AppName.JPKI)
    data, sw = read_ef(card, 0x000A)
    assert sw == 0x9000 and data[:2] == b"\x30\x82"


@pytest.mark.parametrize("seed", SEEDS)
def test_signs_after_the_pin(mynacard_factory: MynacardFactory, seed: int) -> None:
    card = _card(mynacard_factory, seed=seed)
    assert verify(card, PinName.USER_AUTH, _pins(card)[PinName.USER_AUTH]) == 0x9000
    signature, sw = sign(card, 0x0017, DIGEST_INFO)
    assert sw == 0x9000 and len(signature) == 256


@pytest.mark.parametrize("seed", SEEDS)
def test_three_wrong_entries_lock(mynacard_factory: MynacardFactory, seed: int) -> None:
    card = _card(mynacard_factory, seed=seed)
    for expected in (0x63C2, 0x63C1, 0x63C0):
        assert verify(card, PinName.USER_AUTH, "0000") == expected
    assert verify(card, PinName.USER_AUTH, "0000") == 0x6984


@pytest.mark.parametrize("seed", SEEDS)
def test_a_reselect_clears_the_pin(mynacard_factory: MynacardFactory, seed: int) -> None:
    card = _card(mynacard_factory, seed=seed)
    verify(card, PinName.USER_AUTH, _pins(card)[PinName.USER_AUTH])
    select_app(card, AppName.JPKI)
    assert sign(card, 0x0017, DIGEST_INFO)[1] == 0x6982


@pytest.mark.parametrize("seed", SEEDS)
def test_reads_the_basic_four_with_code_b(mynacard_factory: MynacardFactory, seed: int) -> None:
    card = _card(mynacard_factory, seed=seed)
    assert verify(card, PinName.TEXT_CODE_B, _pins(card)[PinName.TEXT_CODE_B]) == (0x9000)
    assert read_ef(card, 0x0002)[1] == 0x9000


@pytest.mark.parametrize("seed", SEEDS)
def test_the_signing_password_has_five_tries(mynacard_factory: MynacardFactory, seed: int) -> None:
    assert query(_card(mynacard_factory, seed=seed), PinName.SIGNING) == 0x63C5


@pytest.mark.parametrize("seed", SEEDS)
def test_under15_has_no_signing_certificate(mynacard_factory: MynacardFactory, seed: int) -> None:
    card = _card(mynacard_factory, seed=seed, variant="under15")
    select_app(card, AppName.JPKI)
    assert send(card, "00A4020C020001")[1] == 0x6A82


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("locked", ["user_auth", "text_input_helper"])
def test_a_locked_pin_refuses_its_right_value(
    mynacard_factory: MynacardFactory, seed: int, locked: str
) -> None:
    card = _card(mynacard_factory, seed=seed, locked=[locked])
    pin = PinName(locked)
    assert verify(card, pin, _pins(card)[pin]) == 0x6984


@pytest.mark.parametrize("n", range(10))
def test_the_default_card(mynacard_factory: MynacardFactory, n: int) -> None:
    assert query(_card(mynacard_factory), PinName.RESIDENT_REGISTRY) == 0x63C3
