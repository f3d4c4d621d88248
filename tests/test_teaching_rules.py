"""The rule tables the teaching layer renders agree with the card that enforces them.

The lifecycle table (rules.PIN_TRANSITIONS) is replayed on a real card, transition by transition;
the diagram and the access-rule docs are rendered from the same tuples and are committed current.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from card_emulator import Card
from card_emulator.errors import EmulatorError
from card_emulator.rules import (
    FILE_RULES,
    PIN_SPECS,
    PIN_TRANSITIONS,
    USER_PINS,
    PinEvent,
    PinName,
    PinState,
    Transition,
)
from card_emulator.teaching.diagram import (
    access_rules_markdown,
    learner_dot,
    lifecycle_dot,
    write_docs,
)
from card_emulator.teaching.i18n import Lang, Text, choose_lang
from card_emulator.teaching.render import (
    WrappedJapanese,
    colour_enabled,
    display_width,
    markdown_table,
    render_text,
    table,
)
from tests.helpers import select_app, select_ef, send, sw_of

ROOT = Path(__file__).resolve().parents[1]
PIN = PinName.SIGNING  # 5 tries, and EF 0001 shows whether it is verified (card-interface.md §4.1)
SPEC = PIN_SPECS[PIN]


# ---------------------------------------------------------------------------------------------
# The transition table and the card
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def card_and_value() -> Iterator[tuple[Card, str]]:
    with Card.create(None, seed=21) as card:
        assert card.created_pins is not None
        yield card, card.created_pins[PIN]


def _wrong(value: str) -> str:
    return "WRONG123" if value != "WRONG123" else "WRONG124"


def _new_value(value: str) -> str:
    return "NEWPASS1" if value != "NEWPASS1" else "NEWPASS2"


def _select_pin(card: Card) -> None:
    assert select_app(card, SPEC.app) == 0x9000
    assert select_ef(card, SPEC.fid) == 0x9000


def _verify(card: Card, value: str) -> int:
    data = value.encode()
    return sw_of(card, bytes([0x00, 0x20, 0x00, 0x80, len(data)]) + data)


def _state(card: Card) -> PinState:
    """Observe the state without changing it: the counter, then a read that needs the PIN."""
    if card.issuer.pin_status(PIN).locked:
        return PinState.LOCKED
    assert select_ef(card, 0x0001) == 0x9000  # selecting an EF keeps the security status (§2.1)
    sw = send(card, "00B0000004")[1]
    assert select_ef(card, SPEC.fid) == 0x9000
    return PinState.VERIFIED if sw == 0x9000 else PinState.READY


def _drive_to(card: Card, value: str, state: PinState) -> str:
    """Reset the PIN to ``value`` with full tries, then bring it into ``state``; return its value."""
    card.issuer.reset_pin(PIN, value)
    _select_pin(card)
    if state == PinState.VERIFIED:
        assert _verify(card, value) == 0x9000
    elif state == PinState.LOCKED:
        for _ in range(SPEC.max_tries):
            _verify(card, _wrong(value))
    assert _state(card) == state
    return value


def _apply(card: Card, value: str, event: PinEvent) -> int | None:
    if event == PinEvent.QUERY:
        return sw_of(card, "00200080")
    if event == PinEvent.WRONG_ENTRY:
        return _verify(card, _wrong(value))
    if event == PinEvent.CORRECT_ENTRY:
        return _verify(card, value)
    if event == PinEvent.CHANGE:
        data = _new_value(value).encode()
        return sw_of(card, bytes([0x00, 0x24, 0x01, 0x80, len(data)]) + data)
    if event == PinEvent.DESELECT:
        _select_pin(card)  # a SELECT of the DF clears the security status
        return None
    card.issuer.reset_pin(PIN, value)
    _select_pin(card)
    return None


def _sw_patterns(answer: str) -> list[str]:
    return re.findall(r"\b[0-9A-F]{2}[0-9A-Fx]{2}\b", answer)


def _matches(sw: int, pattern: str) -> bool:
    return all(p in ("x", h) for p, h in zip(pattern, f"{sw:04X}", strict=True))


@pytest.mark.parametrize(
    "transition", PIN_TRANSITIONS, ids=lambda t: f"{t.state.value}-{t.event.value}"
)
def test_the_card_follows_every_row_of_the_lifecycle_table(
    card_and_value: tuple[Card, str], transition: Transition
) -> None:
    card, value = card_and_value
    _drive_to(card, value, transition.state)
    before = card.issuer.pin_status(PIN).remaining
    sw = _apply(card, value, transition.event)
    patterns = _sw_patterns(transition.answer)
    if sw is not None and patterns:
        assert any(_matches(sw, p) for p in patterns), (f"{sw:04X}", transition.answer)
    after = card.issuer.pin_status(PIN).remaining
    expected = transition.next_state
    if expected is None:  # READY while tries remain, else LOCKED (rules.Transition)
        expected = PinState.READY if after > 0 else PinState.LOCKED
        assert after == before - 1
    assert _state(card) == expected
    card.issuer.reset_pin(PIN, value)


def test_the_last_wrong_entry_locks_as_the_table_says(card_and_value: tuple[Card, str]) -> None:
    card, value = card_and_value
    _drive_to(card, value, PinState.READY)
    for _ in range(SPEC.max_tries - 1):
        _verify(card, _wrong(value))
    assert _verify(card, _wrong(value)) == 0x63C0  # "63C0 on the last"
    assert _state(card) == PinState.LOCKED
    card.issuer.reset_pin(PIN, value)


# ---------------------------------------------------------------------------------------------
# Diagram and docs, rendered from the same tuples
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", [Lang.EN, Lang.JA])
def test_the_diagram_has_an_edge_for_every_transition(lang: Lang) -> None:
    dot = lifecycle_dot(lang)
    assert dot.startswith("// Generated by `mynacard diagram`")
    for state in PinState:
        assert f"  {state.value} [label=" in dot
    edges = dict(re.findall(r"^  (\w+ -> \w+) \[label=\"(.*)\"\];$", dot, re.MULTILINE))
    for t in PIN_TRANSITIONS:
        targets = [t.next_state] if t.next_state else [PinState.READY, PinState.LOCKED]
        for target in targets:
            assert f"{t.state.value} -> {target.value}" in edges, t


def test_the_access_rules_doc_lists_every_file_and_pin() -> None:
    doc = access_rules_markdown()
    for rule in FILE_RULES:
        assert f"| {rule.fid:04X} | {rule.content_en}<br>{rule.content_ja} |" in doc
    for spec in PIN_SPECS.values():
        assert spec.name_ja in doc
        assert f"| {spec.max_tries} |" in doc
    for t in PIN_TRANSITIONS:
        assert t.answer.replace("|", "\\|") in doc


def test_committed_docs_are_what_the_documented_command_writes() -> None:
    docs = ROOT / "docs"
    assert (docs / "pin-lifecycle.dot").read_text(encoding="utf-8") == lifecycle_dot(Lang.EN)
    assert (docs / "access-rules.md").read_text(encoding="utf-8") == access_rules_markdown()
    assert (docs / "pin-lifecycle.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_docs_without_graphviz_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    with pytest.raises(EmulatorError, match="--no-png") as refused:
        write_docs(folder, png=True, dot_binary="no-such-graphviz-dot")
    assert "\n" not in str(refused.value)
    assert not folder.exists()  # checked before anything is written


def test_write_docs_without_graphviz_writes_dot_and_markdown(tmp_path: Path) -> None:
    written = write_docs(tmp_path, png=False)
    assert sorted(p.name for p in written) == [
        "access-rules.md",
        "pin-learner.dot",
        "pin-learner.ja.dot",
        "pin-lifecycle.dot",
        "pin-lifecycle.ja.dot",
    ]


@pytest.mark.parametrize("lang", [Lang.EN, Lang.JA])
def test_the_learners_diagram_comes_from_the_rules_without_status_words(lang: Lang) -> None:
    dot = learner_dot(lang)
    for pin in USER_PINS:
        spec = PIN_SPECS[pin]
        assert ("●" * spec.max_tries) in dot  # the full counter as dots
        assert (
            f"{pin.value} -> {pin.value}_locked" in dot and f"{pin.value}_locked -> window" in dot
        )
        assert (spec.name_ja if lang == Lang.JA else spec.name_en) in dot
    assert "signing_locked -> kiosk" in dot and "user_auth_locked -> kiosk" in dot
    assert "resident_registry_locked -> kiosk" not in dot  # 4-digit PINs: the window only
    assert not re.search(r"\b(9000|63C|6984|6982)", dot)  # no status words for learners
    assert "card_emulator" not in dot and "PIN_TRANSITIONS" not in lifecycle_dot(lang)
    assert ("仮定" if lang == Lang.JA else "assumption") in dot  # the 2025 kiosk's 24 hours


# ---------------------------------------------------------------------------------------------
# Language and rendering
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        ("ja", {"LANG": "en_US.UTF-8"}, Lang.JA),
        ("en", {"LANG": "ja_JP.UTF-8"}, Lang.EN),
        (None, {"LANG": "ja_JP.UTF-8"}, Lang.JA),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "ja_JP.UTF-8"}, Lang.EN),
        (None, {"LC_ALL": "ja_JP.eucJP"}, Lang.JA),
        (None, {"LC_ALL": "", "LANG": "ja_JP"}, Lang.JA),
        (None, {}, Lang.EN),
        (None, {"LANG": "C.UTF-8"}, Lang.EN),
    ],
)
def test_language_choice(option: str | None, env: dict[str, str], expected: Lang) -> None:
    assert choose_lang(option, env) == expected


def test_an_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="use ja or en"):
        choose_lang("fr", {})


def test_text_picks_the_language() -> None:
    text = Text("{n} tries", "{n}回")
    assert text.format(n=3)(Lang.JA) == "3回"
    assert text.format(n=3)("en") == "3 tries"


class _Stream:
    def __init__(self, tty: bool) -> None:
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert colour_enabled(_Stream(True), {}) is True  # type: ignore[arg-type]
    assert colour_enabled(_Stream(False), {}) is False  # type: ignore[arg-type]
    assert colour_enabled(_Stream(True), {"NO_COLOR": "1"}) is False  # type: ignore[arg-type]


@given(st.lists(st.text(alphabet="ab暗証番号12 :~", max_size=40), min_size=2, max_size=4),
       st.integers(min_value=20, max_value=100))  # fmt: skip
def test_tables_never_exceed_the_width(cells: list[str], width: int) -> None:
    headers = [f"h{i}" for i in range(len(cells))]
    text = render_text(table(headers, [cells, list(reversed(cells))]), width=width)
    assert all(display_width(line) <= width for line in text.splitlines())


def test_japanese_wraps_between_characters_but_keeps_ascii_tokens_whole() -> None:
    cell = WrappedJapanese("キオスク端末の手続き時間は6:30~23:00です。資料では63C0と書きます。")
    lines = cell.wrap(12)
    assert all(display_width(line) <= 12 for line in lines)
    assert any("6:30~23:00" in line for line in lines)  # never "6:30~23:" / "00"
    assert any("63C0" in line for line in lines)
    assert not any(line.startswith(("、", "。")) for line in lines)  # kinsoku


def test_wide_characters_count_two_columns() -> None:
    assert display_width("暗証番号") == 8
    assert display_width("PIN") == 3
    assert markdown_table(["a"], [["x|y"]]).splitlines()[-1] == "| x\\|y |"
