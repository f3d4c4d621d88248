"""Card.clone and the creation templates: byte-identical, independent cards (issue 7)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from card_emulator import Card, templates
from card_emulator.errors import CardFileError
from card_emulator.persona import InitialPins
from card_emulator.rules import PinName
from tests.helpers import send, verify

DIGEST_INFO = "3031300D060960864801650304020105000420" + hashlib.sha256(b"c").hexdigest()
SIGN = "802A009A33" + DIGEST_INFO + "00"  # with the signing key (SFI 1A)
AUTH_SIGN = "802A009733" + DIGEST_INFO + "00"  # with the user-authentication key (SFI 17)


def contents(card: Card) -> tuple[object, ...]:
    """Everything persistent, as the card's store holds it (PIN salts and counters included)."""
    store = card._store
    pins = {name: (r.salt, r.digest, r.iterations, r.remaining) for name, r in store.pins().items()}
    return store.meta(), store.files(), store.records(), store.keys(), pins


def remaining(card: Card, pin: PinName) -> int:
    return card.issuer.pin_status(pin).remaining


def test_a_clone_is_byte_identical_and_starts_fresh(card: Card) -> None:
    assert verify(card, PinName.USER_AUTH, "0000") == 0x63C2  # a spent try travels with the clone
    assert card.created_pins is not None
    assert verify(card, PinName.SIGNING, card.created_pins[PinName.SIGNING]) == 0x9000
    copy = card.clone()
    assert contents(copy) == contents(card)
    assert remaining(copy, PinName.USER_AUTH) == 2
    assert copy.created_pins == card.created_pins and copy.created_pins is not card.created_pins
    assert copy.atr == card.atr and copy.path is None
    assert send(copy, SIGN)[1] == 0x6986  # nothing selected: a freshly inserted card
    assert send(card, SIGN)[1] == 0x9000  # the source keeps its session


def test_clone_and_source_are_independent(card: Card) -> None:
    copy = card.clone()
    verify(copy, PinName.USER_AUTH, "0000")  # one wrong try (no seed-3 PIN is 0000)
    assert remaining(copy, PinName.USER_AUTH) == 2
    assert remaining(card, PinName.USER_AUTH) == 3
    card.issuer.reset_pin(PinName.TEXT_INPUT_HELPER, "9876")
    assert verify(copy, PinName.TEXT_INPUT_HELPER, "9876") == 0x63C2
    assert verify(card, PinName.TEXT_INPUT_HELPER, "9876") == 0x9000
    card.close()
    assert verify(copy, PinName.TEXT_INPUT_HELPER, "9876") == 0x63C1  # the clone lives on


def test_signatures_of_a_clone_are_the_source_signatures(card: Card) -> None:
    copy = card.clone()
    assert card.created_pins is not None
    for c in (card, copy):
        verify(c, PinName.SIGNING, card.created_pins[PinName.SIGNING])
    assert send(copy, SIGN) == send(card, SIGN)


def test_a_file_card_clones_into_memory_and_its_file_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.card"
    Card.create(path, seed=3).close()
    with Card.open(path) as opened:
        assert opened.created_pins is None
        verify(opened, PinName.USER_AUTH, "1111")
        copy = opened.clone()
        assert contents(copy) == contents(opened)
        assert copy.created_pins is None and copy.path is None
        before = path.read_bytes()
        for _ in range(3):
            verify(copy, PinName.USER_AUTH, "2222")
        assert copy.issuer.pin_status(PinName.USER_AUTH).locked
        assert path.read_bytes() == before
        assert remaining(opened, PinName.USER_AUTH) == 2
    assert not copy.issuer.pin_status(PinName.USER_AUTH).remaining


def test_a_closed_card_cannot_be_cloned() -> None:
    card = Card.create(None, seed=3)
    card.close()
    with pytest.raises(CardFileError):
        card.clone()


def test_create_again_gives_the_same_bytes_and_an_independent_card() -> None:
    templates.clear()
    first = Card.create(None, seed=5, variant="under15")
    second = Card.create(None, seed=5, variant="under15")
    assert contents(first) == contents(second)
    assert first.created_pins == second.created_pins
    verify(first, PinName.USER_AUTH, "0000")
    assert remaining(second, PinName.USER_AUTH) == 3
    assert contents(Card.create(None, seed=5, variant="under15")) == contents(second)


def test_a_card_file_gets_the_same_content_but_its_own_salts(tmp_path: Path) -> None:
    memory = Card.create(None, seed=6)
    with Card.create(tmp_path / "f.card", seed=6) as on_disk:
        meta, files, records, keys, pins = contents(on_disk)
        assert (meta, files, records, keys) == contents(memory)[:4]
        memory_pins = contents(memory)[4]
        assert isinstance(pins, dict) and isinstance(memory_pins, dict)
        assert {n: p[0] for n, p in pins.items()} != {n: p[0] for n, p in memory_pins.items()}
        assert on_disk.created_pins == memory.created_pins


def test_arguments_that_compare_equal_are_not_confused() -> None:
    Card.create(None, seed=1)
    with pytest.raises(TypeError):
        Card.create(None, seed=True)  # type: ignore[arg-type]
    assert len({templates.key(1), templates.key(True), templates.key(1.0)}) == 3
    assert templates.key((1,)) != templates.key((True,))
    assert templates.key([1]) is None  # unhashable: such a call is simply not cached


def test_overrides_whose_repr_hides_them_still_make_different_cards() -> None:
    one = InitialPins(
        signing="ABC123", user_auth="1111", resident_registry="2222", text_input_helper="3333"
    )
    two = InitialPins(
        signing="ABC123", user_auth="4444", resident_registry="2222", text_input_helper="3333"
    )
    assert repr(one) == repr(two)
    first = Card.create(None, seed=1, pins=one)
    second = Card.create(None, seed=1, pins=two)
    assert first.created_pins is not None and second.created_pins is not None
    assert first.created_pins[PinName.USER_AUTH] == "1111"
    assert second.created_pins[PinName.USER_AUTH] == "4444"


OPS = st.lists(
    st.sampled_from(["wrong_auth", "right_auth", "sign", "wrong_sign_pin", "reset", "power"]),
    max_size=8,
)


def _apply(card: Card, op: str, pins: dict[PinName, str]) -> tuple[object, ...]:
    if op == "wrong_auth":
        return (verify(card, PinName.USER_AUTH, "0000"),)
    if op == "right_auth":
        return (verify(card, PinName.USER_AUTH, pins[PinName.USER_AUTH]),)
    if op == "wrong_sign_pin":
        return (verify(card, PinName.SIGNING, "WRONG1"),)
    if op == "sign":
        return send(card, AUTH_SIGN)
    if op == "reset":
        card.issuer.reset_pin(PinName.USER_AUTH, pins[PinName.USER_AUTH])
        return ()
    card.power_off()
    return ()


@settings(max_examples=15, deadline=None)
@given(before=OPS, after=OPS)
def test_a_clone_behaves_as_its_source_from_then_on(before: list[str], after: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = Card.create(Path(directory) / "s.card", seed=2)
        pins = dict(source.created_pins or {})
        for op in before:
            _apply(source, op, pins)
        source.power_off()
        copy = source.clone()
        assert contents(copy) == contents(source)
        for op in after:
            assert _apply(copy, op, pins) == _apply(source, op, pins)
        assert contents(copy)[4] == contents(source)[4] or "reset" in after
        source.close()


def test_a_clone_keeps_the_cards_own_retry_limits_and_mf_objects() -> None:
    """issue 9's per-card contents: limits chosen at issuance (PIN records) and the MF-level GET
    DATA objects (meta) travel with a clone and with a template's clones."""
    limits = {"surface_code_b": 5}
    source = Card.create(None, seed=4, max_tries=limits, card_number="123456789012345")
    again = Card.create(
        None, seed=4, max_tries={"surface_code_b": 5}, card_number="123456789012345"
    )
    plain = Card.create(None, seed=4)
    for card in (source, source.clone(), again):
        assert card.issuer.pin_status(PinName.SURFACE_CODE_B).max_tries == 5
        assert send(card, "00CA004500") == (b"123456789012345", 0x9000)
    assert plain.issuer.pin_status(PinName.SURFACE_CODE_B).max_tries == 10
    assert send(plain, "00CA004500")[0] != b"123456789012345"
    assert contents(again) == contents(source)  # the second call is a clone of the same template


def test_mappings_are_template_keys_by_their_items() -> None:
    assert templates.key(max_tries={"a": 1}) == templates.key(max_tries={"a": 1})
    assert templates.key(max_tries={"a": 1}) != templates.key(max_tries={"a": True})
    assert templates.key(max_tries={"a": 1}) != templates.key(max_tries={"a": 2})
    assert templates.key(max_tries={"a": [1]}) is None  # an unhashable item: not cached
