"""Every status word the card can answer is explained in both languages; no PIN value is ever shown."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from card_emulator import Card
from card_emulator.rules import PIN_SPECS, USER_PINS, AppName, PinName
from card_emulator.teaching.explain import (
    CARD_STATUS_WORDS,
    STATUS_WORDS,
    explain_exchange,
    explain_status_word,
    redacted_command,
    status_word_info,
)
from card_emulator.teaching.i18n import Lang
from card_emulator.trace import Exchange
from tests.helpers import query, select_app, select_ef, send, verify

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# The status words the card can answer (card-interface.md §9, the list), with x/xx filled.
THE_CARDS_STATUS_WORDS = (
    0x9000, 0x63C0, 0x63C1, 0x63C2, 0x63C3, 0x63C4, 0x63C5, 0x6700, 0x6881, 0x6882, 0x6981,
    0x6982, 0x6984, 0x6985, 0x6986, 0x69FC, 0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A86, 0x6A88,
    0x6B00, 0x6D00, 0x6E00, 0x6F00, 0x6C00, 0x6C20, 0x6100, 0x61F0,
)  # fmt: skip


@pytest.mark.parametrize("sw", sorted({*THE_CARDS_STATUS_WORDS, *CARD_STATUS_WORDS}), ids=hex)
def test_every_status_word_of_the_card_is_explained_in_both_languages(sw: int) -> None:
    info = status_word_info(sw)
    assert info is not None, f"{sw:04X} has no explanation"
    en, ja = explain_status_word(sw, Lang.EN), explain_status_word(sw, Lang.JA)
    assert en.startswith(f"{sw:04X} ") and ja.startswith(f"{sw:04X} ")
    assert en != ja
    assert JAPANESE.search(ja), ja
    assert "{" not in en and "{" not in ja  # every placeholder filled


def test_the_variable_part_is_read_from_the_status_word() -> None:
    assert "2 tries left" in explain_status_word(0x63C2, "en")
    assert "残り2回" in explain_status_word(0x63C2, "ja")
    assert "Le = 20 (32 bytes)" in explain_status_word(0x6C20, "en")
    assert "16 more bytes" in explain_status_word(0x6110, "en")


def test_an_unknown_status_word_says_so() -> None:
    assert status_word_info(0x6283) is None
    assert "does not use" in explain_status_word(0x6283, "en")


def test_status_word_families_do_not_overlap() -> None:
    for sw in CARD_STATUS_WORDS:
        assert sum(info.matches(sw) for info in STATUS_WORDS) == 1, f"{sw:04X}"


# ---------------------------------------------------------------------------------------------
# Exchanges from the real card
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def traced() -> Iterator[tuple[Card, list[Exchange], dict[PinName, str]]]:
    with Card.create(None, seed=31) as card:
        assert card.created_pins is not None
        exchanges: list[Exchange] = []
        card.add_observer(exchanges.append)
        yield card, exchanges, dict(card.created_pins)


def _all_text(exchanges: list[Exchange]) -> str:
    return "\n".join(explain_exchange(e, lang) for e in exchanges for lang in (Lang.EN, Lang.JA))


def test_explanations_never_contain_a_pin_value(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, pins = traced
    signing = pins[PinName.SIGNING]
    verify(card, PinName.SIGNING, signing)
    verify(card, PinName.SIGNING, "WRONG123")
    new = "CHANGED9"
    send(card, bytes([0x00, 0x24, 0x01, 0x80, len(new)]) + new.encode())
    text = _all_text(exchanges)
    for secret in (signing, "WRONG123", new):
        assert secret not in text
        assert secret.encode().hex().upper() not in text.replace(" ", "")
    assert "<8 bytes hidden>" in text or f"<{len(signing)} bytes hidden>" in text


@given(
    first=st.text(alphabet="0123456789ABCDEFGHJKZ", min_size=1, max_size=16),
    second=st.text(alphabet="0123456789ABCDEFGHJKZ", min_size=1, max_size=16),
    ins=st.sampled_from([0x20, 0x24, 0x2C]),
)
def test_explanations_do_not_depend_on_the_pin_sent(first: str, second: str, ins: int) -> None:
    second = (second * 16)[: len(first)]  # same length, any content

    def exchange(value: str) -> Exchange:
        command = bytes([0x00, ins, 0x00, 0x80, len(value)]) + value.encode()
        return Exchange(command, b"\x63\xc2", 0x63C2, AppName.JPKI, 0x0018, PinName.USER_AUTH, 2,
                        "verify", "wrong value")  # fmt: skip

    for lang in (Lang.EN, Lang.JA):
        assert explain_exchange(exchange(first), lang) == explain_exchange(exchange(second), lang)


def test_redaction_hides_data_only_of_pin_commands() -> None:
    assert (
        redacted_command(bytes.fromhex("002000800431323334")) == "00 20 00 80 04 <4 bytes hidden>"
    )
    assert redacted_command(bytes.fromhex("8032008004")).startswith("80 32 00 80")
    assert "31 32" not in redacted_command(bytes.fromhex("80320080043132333400"))
    assert redacted_command(bytes.fromhex("00200080")) == "00 20 00 80"
    select = bytes.fromhex("00A4020C020018")
    assert redacted_command(select) == "00 A4 02 0C 02 00 18"


def test_a_wrong_entry_explains_tries_next_step_and_the_other_pins(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, _ = traced
    verify(card, PinName.USER_AUTH, "0000" if traced[2][PinName.USER_AUTH] != "0000" else "9999")
    last = exchanges[-1]
    assert last.action == "verify"
    en = explain_exchange(last, Lang.EN)
    assert "JPKI application" in en and "EF 0018" in en
    assert "2 of 3 tries left" in en
    assert "The next wrong entry leaves 1 of 3" in en
    for other in USER_PINS:
        if other != PinName.USER_AUTH:
            assert PIN_SPECS[other].name_en in en
    ja = explain_exchange(last, Lang.JA)
    assert "残り2回" in ja and "公的個人認証AP" in ja and "影響を受けません" in ja


def test_one_try_left_warns_and_a_locked_pin_points_to_a_reset(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, pins = traced
    wrong = "0000" if pins[PinName.TEXT_INPUT_HELPER] != "0000" else "9999"
    verify(card, PinName.TEXT_INPUT_HELPER, wrong)
    verify(card, PinName.TEXT_INPUT_HELPER, wrong)
    assert "next wrong entry locks it" in explain_exchange(exchanges[-1], Lang.EN)
    verify(card, PinName.TEXT_INPUT_HELPER, wrong)
    verify(card, PinName.TEXT_INPUT_HELPER, pins[PinName.TEXT_INPUT_HELPER])
    locked = explain_exchange(exchanges[-1], Lang.EN)
    assert "6984" in locked and "municipal window" in locked and "locked" in locked
    assert "窓口" in explain_exchange(exchanges[-1], Lang.JA)


def test_a_refused_read_names_the_pin_it_needs(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, _ = traced
    select_app(card, AppName.JPKI)
    select_ef(card, 0x0001)
    sw = send(card, "00B0000004")[1]
    assert sw == 0x6982
    text = explain_exchange(exchanges[-1], Lang.EN)
    assert "6982" in text and "signing password" in text


def test_a_query_spends_nothing_and_says_so(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, _ = traced
    assert query(card, PinName.RESIDENT_REGISTRY) == 0x63C3
    text = explain_exchange(exchanges[-1], Lang.EN)
    assert "住基" in explain_exchange(exchanges[-1], Lang.JA)
    assert "3 tries left; the query spent nothing" in text
