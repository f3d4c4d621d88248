"""Every status word the card can answer is explained in both languages; no PIN value is ever shown."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apdu import redact_command
from card_emulator import Card
from card_emulator.rules import FILE_RULES, PIN_SPECS, USER_PINS, AppName, FileKind, PinName
from card_emulator.teaching.explain import explain_exchange
from card_emulator.teaching.i18n import Lang
from card_emulator.teaching.status_words import (
    CARD_STATUS_WORDS,
    STATUS_WORDS,
    explain_status_word,
    status_word_info,
)
from card_emulator.trace import Exchange
from tests.helpers import query, select_app, select_ef, send, verify

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# The status words the card can answer (card-interface.md §9, the issue's list), with x/xx filled.
THE_CARDS_STATUS_WORDS = (
    0x9000, 0x63C0, 0x63C1, 0x63C2, 0x63C3, 0x63C4, 0x63C5, 0x6700, 0x6881, 0x6882, 0x6981,
    0x6982, 0x6984, 0x6985, 0x6986, 0x69FC, 0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A86, 0x6A88,
    0x6B00, 0x6D00, 0x6E00, 0x6F00, 0x6C00, 0x6C20, 0x6100, 0x61F0, 0x6884,
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
    assert f"<{len(signing)} bytes redacted>" in text and "<8 bytes redacted>" in text


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


def _exchange(command: bytes, sw: int = 0x63C2, reason: str = "wrong value") -> Exchange:
    return Exchange(command, sw.to_bytes(2, "big"), sw, AppName.JPKI, 0x0018,
                    PinName.USER_AUTH, 2, "verify", reason)  # fmt: skip


# (command, the PIN bytes it carries): VERIFY, CHANGE REFERENCE DATA, CHANGE KEY, a malformed
# VERIFY whose Lc (31) promises more than is sent, and an extended-length VERIFY.
PIN_COMMANDS = (
    ("002000800431323334", "31323334"),
    ("00240180083536373839303132", "3536373839303132"),
    ("80320080043132333400", "31323334"),
    ("00200080313233", "313233"),
    ("0020008000000431323334", "31323334"),
)


@pytest.mark.parametrize(("command", "pin_hex"), PIN_COMMANDS)
def test_the_command_line_is_the_one_redacted_form(command: str, pin_hex: str) -> None:
    raw = bytes.fromhex(command)
    for lang in (Lang.EN, Lang.JA):
        text = explain_exchange(_exchange(raw), lang)
        first = text.splitlines()[0]
        assert f" {redact_command(raw)} — " in first  # the same form as every other trace
        assert "redacted>" in first
        assert pin_hex not in text.replace(" ", "").upper()


def test_other_commands_are_shown_whole() -> None:
    for command in ("00A4020C020018", "00200080", "00B0000004"):
        first = explain_exchange(_exchange(bytes.fromhex(command)), Lang.EN).splitlines()[0]
        assert f" {command} — " in first


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


def test_wrong_length_is_not_explained_with_a_verify() -> None:
    # A VERIFY of the wrong length counts as a wrong entry (63Cx), so it is no example of 6700.
    for lang in (Lang.EN, Lang.JA):
        assert "VERIFY" not in explain_status_word(0x6700, lang)


def test_6981_covers_every_kind_of_file_mismatch(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, _ = traced
    free = next(r for r in FILE_RULES if r.app == AppName.JPKI and r.free and r.required)
    assert free.kind == FileKind.TRANSPARENT
    select_app(card, AppName.JPKI)
    select_ef(card, free.fid)
    assert send(card, "00B2010400")[1] == 0x6981  # READ RECORD on a transparent EF
    assert send(card, "00200080")[1] == 0x6981  # VERIFY on an EF that is not a PIN
    for lang in (Lang.EN, Lang.JA):
        text = explain_status_word(0x6981, lang)
        assert "READ RECORD" in text and "VERIFY" in text and "READ BINARY" in text
        assert "80 2A" in text
    en = explain_exchange(exchanges[-1], Lang.EN)
    assert "6981" in en and "is not a PIN" in en  # the card's own reason, labelled
    ja = explain_exchange(exchanges[-1], Lang.JA)
    assert "カードの理由" in ja and "暗証番号ではありません" in ja  # one language per run
    assert "is not a PIN" not in ja


def test_command_chaining_is_refused_and_explained(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, _ = traced
    assert send(card, "10A4020C020018")[1] == 0x6884  # CLA bit 10: chaining
    en, ja = explain_exchange(exchanges[-1], Lang.EN), explain_exchange(exchanges[-1], Lang.JA)
    assert "6884 command chaining not supported" in en
    assert "コマンドチェイニング" in ja


def test_a_query_spends_nothing_and_says_so(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    card, exchanges, _ = traced
    assert query(card, PinName.RESIDENT_REGISTRY) == 0x63C3
    text = explain_exchange(exchanges[-1], Lang.EN)
    assert "住基" in explain_exchange(exchanges[-1], Lang.JA)
    assert "3 tries left; the query spent nothing" in text


def test_the_refusals_of_issue_9_have_japanese_reasons() -> None:
    """The card-surface and common APs, MF objects, prefix SELECT and SM refusals are explained
    in Japanese too (a reason missing from the table would show only in English output)."""
    from card_emulator.teaching.commands import card_reason

    card = Card.create(None, seed=7)
    seen: list[Exchange] = []
    card.add_observer(seen.append)
    surface, common = "00A4040C0AD3921000310001010402", "00A4040C0AD3921000310001010100"
    text = "00A4040C0AD3921000310001010408"
    for apdu in (
        "00CA00F800",  # 565 bytes: extended Le
        "00CA123400",  # no such object at MF level
        "00A4040C03D39299",  # no application with this name
        "00A4041C03D39210",  # P2 must be 0X
        text,
        "00A4020C020012",
        "00200080043132333400",  # blocked on every card
        "80AE0000",  # SET SESSION KEY before the PIN
        "0CB0000000",  # SM with no session
        surface,
        "802A0001022000",  # P1P2 of the AP key
        "00880080",  # INTERNAL AUTHENTICATE with nothing selected
        common,
        "0088019901AB00",  # P1
        "00880099",  # no challenge
        "0088009C01AB00",  # a PIN is no key
    ):
        card.transmit(bytes.fromhex(apdu))
    refused = [e for e in seen if e.sw != 0x9000 and e.reason]
    assert len(refused) >= 12
    missing = [e.reason for e in refused if card_reason(e.reason) is None]
    assert not missing


def test_a_9000_to_another_command_is_not_explained_with_a_verify(
    traced: tuple[Card, list[Exchange], dict[PinName, str]],
) -> None:
    """A GET CHALLENGE or READ BINARY that succeeds says so, without the catalogue's note on what
    a 9000 means after a VERIFY (issue 11: explanations true of the command explained)."""
    from card_emulator.teaching.explain import explain_row

    card, exchanges, _ = traced
    assert send(card, "0084000008")[1] == 0x9000
    for lang in (Lang.EN, Lang.JA):
        for text in (explain_exchange(exchanges[-1], lang), explain_row(exchanges[-1], lang)[2]):
            assert "VERIFY" not in text, text
    assert "the command succeeded" in explain_row(exchanges[-1], Lang.EN)[2]
    assert "コマンドは成功しました" in explain_row(exchanges[-1], Lang.JA)[2]


def _card_reasons() -> list[str]:
    """Every reason the card code gives (``CardError(sw, reason)``, ``refuse(sw, reason)``, a
    note's reason), a formatted value filled with a sample ("EF 0018", "12")."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "card_emulator"
    skip = {"teaching", "cli", "web", "testing"}
    reasons: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if skip & set(path.relative_to(root).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value: ast.expr | None = None
            if isinstance(node, ast.Call) and len(node.args) >= 2:
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name in ("CardError", "refuse"):
                    value = node.args[1]
            elif (isinstance(node, ast.keyword) and node.arg == "reason") or (  # reason=...
                isinstance(node, ast.Assign)  # note.reason = ...
                and any(isinstance(t, ast.Attribute) and t.attr == "reason" for t in node.targets)
            ):
                value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                reasons.append(value.value)
            elif isinstance(value, ast.JoinedStr):
                text = ""
                for part in value.values:
                    if isinstance(part, ast.Constant):
                        text += str(part.value)
                    else:
                        text += "0018" if text.endswith("EF ") else "12"
                reasons.append(text)
    return reasons


def test_every_reason_the_card_gives_has_japanese() -> None:
    """One language per run (issue 11): a reason missing from the table is left out of Japanese
    output, so the learner would lose it; the table covers every reason the card code gives."""
    from card_emulator.teaching.commands import card_reason

    reasons = _card_reasons()
    assert len(reasons) > 80
    missing = [reason for reason in reasons if card_reason(reason) is None]
    assert missing == []
    for spec in PIN_SPECS.values():  # the format in a refused CHANGE is given in Japanese too
        ja = card_reason(f"the new value must be {spec.format.description_en}")
        assert ja is not None and spec.format.description_ja in ja.ja
    key = card_reason("the key needs a VERIFY of signing")
    assert key is not None and PIN_SPECS[PinName.SIGNING].name_ja in key.ja


def test_a_malformed_known_command_is_explained_by_what_is_wrong_with_it() -> None:
    """`802A00800A0102` (Lc 10, 2 bytes follow): the row names the instruction and the length
    problem, then "wrong length" — not the catalogue's examples (READ BINARY without Le, 80 FC on
    a physical card), which are not about this command."""
    from card_emulator.teaching.explain import explain_row

    card = Card.create(None, seed=7)
    seen: list[Exchange] = []
    card.add_observer(seen.append)
    card.transmit(bytes.fromhex("802A00800A0102"))
    en, ja = explain_row(seen[-1], Lang.EN)[2], explain_row(seen[-1], Lang.JA)[2]
    assert en == "COMPUTE DIGITAL SIGNATURE: Lc says 10 bytes of data, but 2 follow; wrong length."
    assert "Lcは10バイトのデータを示しますが、続くのは2バイトです" in ja
    for text in (en, ja):
        assert "80 FC" not in text and "READ BINARY" not in text
