"""Status words (apdu.status): the values card software depends on (card-interface.md §9) and
their English meanings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apdu import (
    StatusWord,
    bytes_available,
    bytes_available_sw,
    describe,
    is_success,
    is_warning,
    retries_left,
    verify_failed,
    wrong_le,
    wrong_le_sw,
)

UNKNOWN = "unknown status word"

# The values other parts of the project (and card clients) rely on: card-interface.md §9.
REQUIRED = {
    "NO_ERROR": 0x9000,
    "VERIFICATION_FAILED": 0x6300,
    "WRONG_LENGTH": 0x6700,
    "LOGICAL_CHANNEL_NOT_SUPPORTED": 0x6881,
    "SECURE_MESSAGING_NOT_SUPPORTED": 0x6882,
    "COMMAND_INCOMPATIBLE": 0x6981,
    "SECURITY_STATUS_NOT_SATISFIED": 0x6982,
    "AUTH_METHOD_BLOCKED": 0x6983,
    "REFERENCE_DATA_NOT_USABLE": 0x6984,
    "CONDITIONS_NOT_SATISFIED": 0x6985,
    "COMMAND_NOT_ALLOWED_NO_EF": 0x6986,
    "SM_DATA_MISSING": 0x6987,
    "SM_DATA_INCORRECT": 0x6988,
    "SM_SESSION_BROKEN": 0x69FC,
    "INCORRECT_DATA": 0x6A80,
    "FUNCTION_NOT_SUPPORTED": 0x6A81,
    "FILE_NOT_FOUND": 0x6A82,
    "RECORD_NOT_FOUND": 0x6A83,
    "INCORRECT_P1P2": 0x6A86,
    "REFERENCE_DATA_NOT_FOUND": 0x6A88,
    "WRONG_PARAMETERS_OFFSET": 0x6B00,
    "INS_NOT_SUPPORTED": 0x6D00,
    "CLA_NOT_SUPPORTED": 0x6E00,
    "NO_PRECISE_DIAGNOSIS": 0x6F00,
    "SECURITY_ENVIRONMENT_FAULTY": 0x66F1,
    "END_OF_FILE_WARNING": 0x6282,
}


@pytest.mark.parametrize(("name", "value"), REQUIRED.items())
def test_required_members(name: str, value: int) -> None:
    assert StatusWord[name] == value
    assert StatusWord(value).name == name


@pytest.mark.parametrize("sw", list(StatusWord), ids=lambda s: s.name)
def test_describe_covers_every_member(sw: StatusWord) -> None:
    text = describe(sw)
    assert text and text != UNKNOWN
    assert describe(int(sw)) == text


def test_member_meanings_are_distinct() -> None:
    meanings = [describe(sw) for sw in StatusWord]
    assert len(set(meanings)) == len(meanings)


@pytest.mark.parametrize(
    ("sw", "text"),
    [
        (0x9000, "normal end"),
        (0x6984, "reference data not usable (JICSAP: key locked)"),
        (0x6982, "security status not satisfied"),
        (0x63C3, "verification failed, 3 tries left"),
        (0x63C1, "verification failed, 1 try left"),
        (0x63C0, "verification failed, no tries left (reference data now blocked)"),
        (0x6110, "normal end, 16 response bytes still available (GET RESPONSE)"),
        (0x6100, "normal end, 256 response bytes still available (GET RESPONSE)"),
        (0x6C20, "wrong Le field, exact length is 32"),
        (0x6C00, "wrong Le field, exact length is 256"),
        (0x0000, UNKNOWN),
        (0x1234, UNKNOWN),
        (0x6A99, UNKNOWN),
        (0xFFFF, UNKNOWN),
    ],
)
def test_describe(sw: int, text: str) -> None:
    assert describe(sw) == text


def test_describe_is_total_over_16_bits() -> None:
    for sw in range(0x10000):
        assert describe(sw)


@pytest.mark.parametrize("sw", [-1, 0x10000])
def test_describe_rejects_out_of_range(sw: int) -> None:
    with pytest.raises(ValueError):
        describe(sw)


# --- the parametrised families -----------------------------------------------------------------


@given(st.integers(0, 15))
def test_verify_failed_and_retries_left(n: int) -> None:
    sw = verify_failed(n)
    assert sw == 0x63C0 + n
    assert retries_left(sw) == n
    assert is_warning(sw) and not is_success(sw)


@pytest.mark.parametrize("n", [-1, 16])
def test_verify_failed_range(n: int) -> None:
    with pytest.raises(ValueError):
        verify_failed(n)


@given(st.integers(1, 256))
def test_bytes_available_round_trip(n: int) -> None:
    sw = bytes_available_sw(n)
    assert sw >> 8 == 0x61
    assert bytes_available(sw) == n
    assert is_success(sw)


@given(st.integers(1, 256))
def test_wrong_le_round_trip(n: int) -> None:
    sw = wrong_le_sw(n)
    assert sw >> 8 == 0x6C
    assert wrong_le(sw) == n


@pytest.mark.parametrize("n", [0, 257])
def test_family_builders_reject_out_of_range(n: int) -> None:
    with pytest.raises(ValueError):
        bytes_available_sw(n)
    with pytest.raises(ValueError):
        wrong_le_sw(n)


def test_family_readers() -> None:
    assert bytes_available(0x6100) == 256
    assert wrong_le(0x6C00) == 256
    assert retries_left(0x63C5) == 5
    for sw in (0x9000, 0x6300, 0x6984, 0x6282, 0x62C3, 0x6B00):
        assert retries_left(sw) is None
        assert bytes_available(sw) is None
        assert wrong_le(sw) is None


def test_success_and_warning() -> None:
    assert is_success(0x9000)
    assert not is_success(0x6A82)
    assert is_warning(0x6282) and is_warning(0x6300)
    assert not is_warning(0x9000)
