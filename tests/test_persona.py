"""The synthetic holder: number formats, eras, expiry rules, determinism, override validation."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from card_emulator.persona import (
    DEFAULT_ISSUED,
    DeterministicRandom,
    Era,
    InitialPins,
    age_on,
    card_expiry_for,
    certificate_expiry,
    era_code,
    era_of,
    era_yymmdd,
    generate_persona,
    is_valid_my_number,
    my_number_check_digit,
    nth_birthday_after,
    san_birth_date,
    verification_code_b,
)
from card_emulator.rules import PIN_SPECS, PinName

# --- My Number (card-interface.md §11.1) -----------------------------------------------------


@pytest.mark.parametrize("number", ["621498320257", "537686677188", "123456789018"])
def test_known_my_numbers_are_valid(number: str) -> None:
    assert is_valid_my_number(number)
    assert my_number_check_digit(number[:11]) == int(number[11])


@pytest.mark.parametrize(
    "number",
    [
        "621498320258",
        "12345678901",
        "1234567890180",
        "12345678901A",
        "",
        "１２３４５６７８９０１８",
    ],
)
def test_malformed_or_wrong_my_numbers_are_invalid(number: str) -> None:
    assert not is_valid_my_number(number)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_exactly_one_check_digit_completes_a_body(body: str) -> None:
    valid = [d for d in "0123456789" if is_valid_my_number(body + d)]
    assert valid == [str(my_number_check_digit(body))]


def test_check_digit_rejects_a_bad_body() -> None:
    with pytest.raises(ValueError):
        my_number_check_digit("1234")


# --- Eras (card-interface.md §11.3) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "era", "year"),
    [
        (date(1868, 1, 25), Era.MEIJI, 1),
        (date(1912, 7, 29), Era.MEIJI, 45),
        (date(1912, 7, 30), Era.TAISHO, 1),
        (date(1926, 12, 24), Era.TAISHO, 15),
        (date(1926, 12, 25), Era.SHOWA, 1),
        (date(1980, 2, 17), Era.SHOWA, 55),
        (date(1989, 1, 7), Era.SHOWA, 64),
        (date(1989, 1, 8), Era.HEISEI, 1),
        (date(2019, 4, 30), Era.HEISEI, 31),
        (date(2019, 5, 1), Era.REIWA, 1),
        (date(2026, 4, 1), Era.REIWA, 8),
    ],
)
def test_era_boundaries(day: date, era: Era, year: int) -> None:
    assert era_of(day) == (era, year)
    assert era_code(day) == int(era)


def test_before_meiji_is_refused() -> None:
    with pytest.raises(ValueError, match="Meiji"):
        era_of(date(1868, 1, 24))


def test_era_date_forms() -> None:
    assert era_yymmdd(date(1980, 2, 17)) == "550217"
    assert era_yymmdd(date(2019, 5, 1)) == "010501"
    assert san_birth_date(date(1980, 2, 17)) == "319800217"  # §12.2 test-card example
    assert san_birth_date(date(1989, 1, 8)) == "419890108"
    assert Era.REIWA.name_ja == "令和"


def test_verification_code_b_vector() -> None:
    # card-interface.md §5.6: born 1980-02-17, expiry 2035, code 2285.
    p = generate_persona(
        0, birth_date=date(1980, 2, 17), card_expiry=date(2035, 2, 17), security_code="2285"
    )
    assert verification_code_b(p) == "55021720352285"
    assert PIN_SPECS[PinName.TEXT_CODE_B].format.accepts(verification_code_b(p))


# --- Expiry and age ---------------------------------------------------------------------------


def test_adult_card_runs_to_the_tenth_birthday_and_certificates_to_the_fifth() -> None:
    p = generate_persona(1, issued=date(2026, 4, 1), birth_date=date(1980, 2, 17))
    assert p.card_expiry == date(2036, 2, 17)  # birthdays after issuance: 2027 … 2036
    assert certificate_expiry(p) == date(2031, 2, 17)


def test_birthday_on_the_issuance_day_is_not_counted() -> None:
    assert nth_birthday_after(date(1990, 4, 1), date(2026, 4, 1), 1) == date(2027, 4, 1)
    assert nth_birthday_after(date(1990, 4, 2), date(2026, 4, 1), 1) == date(2026, 4, 2)


def test_minor_card_runs_to_the_fifth_birthday() -> None:
    birth = date(2010, 6, 1)  # 15 on 2026-04-01
    assert card_expiry_for(birth, date(2026, 4, 1)) == date(2030, 6, 1)
    p = generate_persona(2, birth_date=birth)
    assert certificate_expiry(p) == p.card_expiry == date(2030, 6, 1)


def test_eighteen_on_the_issuance_day_counts_as_adult() -> None:
    assert card_expiry_for(date(2008, 4, 1), date(2026, 4, 1)) == date(2036, 4, 1)
    assert card_expiry_for(date(2008, 4, 2), date(2026, 4, 1)) == date(2030, 4, 2)


def test_leap_day_birthday() -> None:
    assert nth_birthday_after(date(2000, 2, 29), date(2026, 4, 1), 1) == date(2027, 2, 28)
    assert nth_birthday_after(date(2000, 2, 29), date(2026, 4, 1), 2) == date(2028, 2, 29)


def test_age_on() -> None:
    p = generate_persona(3, birth_date=date(1980, 2, 17))
    assert age_on(p, date(2026, 2, 16)) == 45
    assert age_on(p, date(2026, 2, 17)) == 46


# --- Generation -------------------------------------------------------------------------------


def test_same_seed_same_person_and_different_seeds_differ() -> None:
    assert generate_persona(7) == generate_persona(7)
    assert generate_persona(7) != generate_persona(8)
    assert generate_persona(7).pins.as_dict() == generate_persona(7).pins.as_dict()


def test_issuance_date_is_a_parameter_not_the_clock() -> None:
    assert generate_persona(7).issued == DEFAULT_ISSUED
    assert generate_persona(7, issued=date(2030, 1, 1)).issued == date(2030, 1, 1)


def test_card_serials_are_test_marked_and_distinct() -> None:
    serials = {generate_persona(seed).card_serial for seed in range(300)}
    assert len(serials) == 300
    assert all(re.fullmatch(r"TEST[0-9A-F]{12}", s) for s in serials)
    # A different issuance date or override gives a different card, hence a different serial.
    assert (
        generate_persona(1).card_serial != generate_persona(1, issued=date(2027, 1, 1)).card_serial
    )
    assert generate_persona(1).card_serial != generate_persona(1, name="試験　花子").card_serial


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_generated_personas_are_well_formed(seed: int) -> None:
    p = generate_persona(seed)
    family, given_name = p.name.split("\u3000")
    assert family and given_name
    assert is_valid_my_number(p.my_number)
    assert re.fullmatch(r"[0-9]{11}", p.resident_code)
    assert re.fullmatch(r"[0-9]{5}", p.municipality_code)
    assert re.fullmatch(r"[0-9]{4}", p.security_code)
    assert p.sex in ("1", "2")
    assert not re.search(r"[0-9-]", p.address), "block numbers are full-width"
    assert re.search(r"[０-９]－[０-９]", p.address)
    assert "テスト" in p.address
    assert 20 <= age_on(p, p.issued) <= 79
    assert p.card_expiry == card_expiry_for(p.birth_date, p.issued)
    for name, value in p.pins.as_dict().items():
        assert PIN_SPECS[name].format.accepts(value)


# --- Overrides and validation -----------------------------------------------------------------


def test_overrides_replace_fields_and_rederive_expiry() -> None:
    p = generate_persona(5, name="山田　太郎", birth_date=date(1990, 1, 2), sex="1")
    assert (p.name, p.birth_date, p.sex) == ("山田　太郎", date(1990, 1, 2), "1")
    assert p.card_expiry == date(2036, 1, 2)


def test_pins_override() -> None:
    pins = InitialPins("ABC123", "1234", "1234", "1234")  # 2–4 may share a value (pin-rules §1)
    assert generate_persona(5, pins=pins).pins == pins


def test_wrong_my_number_check_digit_is_refused_with_the_expected_digit() -> None:
    with pytest.raises(ValueError, match=r"check digit: expected 8"):
        generate_persona(0, my_number="123456789012")


@pytest.mark.parametrize(
    "pins",
    [
        ("abc123", "1234", "1234", "1234"),  # lower case
        ("ABCDEF", "1234", "1234", "1234"),  # no digit
        ("123456", "1234", "1234", "1234"),  # no letter
        ("AB12", "1234", "1234", "1234"),  # too short
        ("A1234567890123456", "1234", "1234", "1234"),  # 17 characters
        ("ABC123", "12345", "1234", "1234"),
        ("ABC123", "1234", "12a4", "1234"),
        ("ABC123", "1234", "1234", ""),
    ],
)
def test_bad_initial_pins_are_refused_without_echoing_them(pins: tuple[str, ...]) -> None:
    with pytest.raises(ValueError) as info:
        InitialPins(*pins)
    message = str(info.value)
    assert "withheld" in message
    for value in pins:
        if len(value) >= 4:
            assert value not in message


def test_pins_never_appear_in_reprs() -> None:
    pins = InitialPins("SECRET9", "9876", "8765", "7654")
    p = generate_persona(0, pins=pins)
    for value in pins.as_dict().values():
        assert value not in repr(pins)
        assert value not in repr(p)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "3"),
        ("municipality_code", "1310"),
        ("resident_code", "1234567890"),
        ("security_code", "12a4"),
        ("card_serial", "SHORT"),
        ("name", ""),
        ("address", "東京都\n千代田区"),
        ("prefecture_romaji", "東京都"),
        ("birth_date", date(1800, 1, 1)),
        ("birth_date", date(2030, 1, 1)),  # after issuance
        ("card_expiry", date(2020, 1, 1)),  # before issuance
    ],
)
def test_bad_override_values_raise_value_error(field: str, value: Any) -> None:
    with pytest.raises(ValueError):
        generate_persona(0, **{field: value})


def test_unknown_override_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="nickname"):
        generate_persona(0, nickname="x")


def test_deterministic_random_is_fixed_by_its_label() -> None:
    assert DeterministicRandom(b"a", 1).bytes(40) == DeterministicRandom(b"a", 1).bytes(40)
    assert DeterministicRandom(b"a", 1).bytes(40) != DeterministicRandom(b"a", 2).bytes(40)
    # Labels are length-prefixed: ("ab", "c") is not ("a", "bc").
    assert DeterministicRandom("ab", "c").bytes(8) != DeterministicRandom("a", "bc").bytes(8)
    rng = DeterministicRandom(b"range")
    assert all(0 <= rng.below(7) < 7 for _ in range(200))
    assert {rng.randint(1, 3) for _ in range(200)} == {1, 2, 3}
