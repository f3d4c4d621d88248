"""The teaching commands as a user runs them (typer's CliRunner): output, JSON, language, exit codes.

PIN values come from environment variables or a hidden prompt and never appear in the output.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import card_emulator.cli  # noqa: F401 — registers every command module on the app
from card_emulator import Card
from card_emulator.cli.app import app
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "scenarios"
CLEAN_ENV = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "NO_COLOR": ""}


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(app, list(args), env={**CLEAN_ENV, **(env or {})}, input=input)


@pytest.fixture
def card_file(tmp_path: Path) -> tuple[Path, dict[PinName, str]]:
    path = tmp_path / "holder.card"
    with Card.create(path, seed=51, issued=date(2024, 4, 1)) as card:
        assert card.created_pins is not None
        pins = dict(card.created_pins)
    return path, pins


def remaining(path: Path, pin: PinName) -> int:
    with Card.open(path) as card:
        return card.issuer.pin_status(pin).remaining


def wrong_four(pins: dict[PinName, str], pin: PinName) -> str:
    return "0000" if pins[pin] != "0000" else "9999"


# ---------------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------------


def test_rules_json_is_the_rule_data() -> None:
    result = run("rules", "--json", "--date", "2024-08-01")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["kiosk_rule"] == "2024" and data["kiosk_rule_2025_from_is_assumed"] is True
    by_pin = {p["pin"]: p for p in data["pins"]}
    assert list(by_pin) == [p.value for p in USER_PINS]
    for pin in USER_PINS:
        assert by_pin[pin.value]["max_tries"] == PIN_SPECS[pin].max_tries
        assert by_pin[pin.value]["format"]["en"] == PIN_SPECS[pin].format.description_en
    assert by_pin["signing"]["reset_channels"] == ["window", "kiosk"]
    assert by_pin["user_auth"]["reset_channels"] == ["window"]
    assert by_pin["signing"]["may_share_value_with"] == []
    assert set(by_pin["user_auth"]["may_share_value_with"]) == {"resident_registry",
                                                              "text_input_helper"}  # fmt: skip
    later = json.loads(run("rules", "--json", "--date", "2025-06-01").output)
    assert {p["pin"]: p for p in later["pins"]}["user_auth"]["kiosk_needs"] == "signing"


def test_rules_follow_the_language() -> None:
    en = run("rules", "--date", "2025-06-01").output
    assert "signing password" in en and "Reset channels on 2025-06-01 (2025 rule)" in en
    ja = run("rules", env={"LANG": "ja_JP.UTF-8"}).output
    assert "署名用電子証明書の暗証番号" in ja and "再設定の方法" in ja
    forced = run("rules", "--lang", "en", env={"LANG": "ja_JP.UTF-8"}).output
    assert "What locks it" in forced
    assert "\x1b[" not in en  # not a terminal: no colour


# ---------------------------------------------------------------------------------------------
# pin status | verify | change
# ---------------------------------------------------------------------------------------------


def test_pin_status_asks_without_spending(card_file: tuple[Path, dict[PinName, str]]) -> None:
    path, _ = card_file
    result = run("pin", "status", str(path))
    assert result.exit_code == 0, result.output
    assert "5/5" in result.output and "3/3" in result.output
    data = json.loads(run("pin", "status", str(path), "--json").output)
    assert [p["sw"] for p in data["pins"]] == ["63C5", "63C3", "63C3", "63C3"]
    assert remaining(path, PinName.SIGNING) == 5


def test_a_value_of_the_wrong_format_never_reaches_the_card(
    card_file: tuple[Path, dict[PinName, str]],
) -> None:
    path, _ = card_file
    result = run("pin", "verify", str(path), "--pin", "user-auth", env={"MYNACARD_PIN": "12"})
    assert result.exit_code == 2
    assert "4 digits" in result.output and "nothing was sent" in result.output
    assert remaining(path, PinName.USER_AUTH) == 3
    ja = run("pin", "verify", str(path), "--pin", "signing", "--lang", "ja",
             env={"MYNACARD_PIN": "abc"})  # fmt: skip
    assert ja.exit_code == 2 and "カードには何も送っていません" in ja.output


def test_raw_sends_it_anyway_and_the_card_answers(
    card_file: tuple[Path, dict[PinName, str]],
) -> None:
    path, _ = card_file
    result = run("pin", "verify", str(path), "--pin", "user-auth", "--raw", "--json",
                 env={"MYNACARD_PIN": "12"})  # fmt: skip
    data = json.loads(result.output)
    assert data["sw"] != "9000" and result.exit_code == 1
    assert data["tries_left"] == remaining(path, PinName.USER_AUTH)


def test_verify_wrong_then_correct(card_file: tuple[Path, dict[PinName, str]]) -> None:
    path, pins = card_file
    wrong = wrong_four(pins, PinName.USER_AUTH)
    result = run("pin", "verify", str(path), "--pin", "user-auth", env={"MYNACARD_PIN": wrong})
    assert result.exit_code == 1
    out = result.output
    assert "63C2" in out and "counts on the card" in out and wrong not in out
    good = run("pin", "verify", str(path), "--pin", "user-auth",
               env={"MYNACARD_PIN": pins[PinName.USER_AUTH]})  # fmt: skip
    assert good.exit_code == 0 and "3/3" in good.output
    assert pins[PinName.USER_AUTH] not in good.output


def test_the_hidden_prompt_does_not_echo(card_file: tuple[Path, dict[PinName, str]]) -> None:
    path, pins = card_file
    value = pins[PinName.SIGNING]
    result = run("pin", "verify", str(path), "--pin", "signing", input=f"{value}\n")
    assert result.exit_code == 0, result.output
    assert value not in result.output


def test_verify_explain_annotates_each_apdu(card_file: tuple[Path, dict[PinName, str]]) -> None:
    path, pins = card_file
    value = pins[PinName.RESIDENT_REGISTRY]
    result = run("pin", "verify", str(path), "--pin", "resident", "--explain",
                 env={"MYNACARD_PIN": value})  # fmt: skip
    out = result.output
    assert result.exit_code == 0, out
    assert "00 A4 04 0C" in out and "<4 bytes hidden>" in out and "EF 001C" in out
    assert value.encode().hex().upper() not in out.replace(" ", "")


def test_change_needs_the_current_pin(card_file: tuple[Path, dict[PinName, str]]) -> None:
    path, pins = card_file
    wrong = wrong_four(pins, PinName.TEXT_INPUT_HELPER)
    refused = run("pin", "change", str(path), "--pin", "text",
                  env={"MYNACARD_PIN": wrong, "MYNACARD_NEW_PIN": "4826"})  # fmt: skip
    assert refused.exit_code == 1 and "63C2" in refused.output
    assert remaining(path, PinName.TEXT_INPUT_HELPER) == 2
    bad_new = run("pin", "change", str(path), "--pin", "text",
                  env={"MYNACARD_PIN": pins[PinName.TEXT_INPUT_HELPER], "MYNACARD_NEW_PIN": "48"})  # fmt: skip
    assert bad_new.exit_code == 2 and "The new" in bad_new.output
    done = run("pin", "change", str(path), "--pin", "text",
               env={"MYNACARD_PIN": pins[PinName.TEXT_INPUT_HELPER], "MYNACARD_NEW_PIN": "4826"})  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "4826" not in done.output
    check = run("pin", "verify", str(path), "--pin", "text", env={"MYNACARD_PIN": "4826"})
    assert check.exit_code == 0


# ---------------------------------------------------------------------------------------------
# pin reset
# ---------------------------------------------------------------------------------------------


def test_window_reset_by_the_holder(card_file: tuple[Path, dict[PinName, str]]) -> None:
    path, pins = card_file
    for _ in range(3):
        run("pin", "verify", str(path), "--pin", "resident",
            env={"MYNACARD_PIN": wrong_four(pins, PinName.RESIDENT_REGISTRY)})  # fmt: skip
    assert remaining(path, PinName.RESIDENT_REGISTRY) == 0
    result = run("pin", "reset", str(path), "--pin", "resident", "--via", "window",
                 "--date", "2025-06-02", env={"MYNACARD_NEW_PIN": "4826"})  # fmt: skip
    out = result.output
    assert result.exit_code == 0, out
    assert "Plan: 1 visit(s)" in out and "Done" in out and "4826" not in out
    assert remaining(path, PinName.RESIDENT_REGISTRY) == 3


def test_kiosk_both_jpki_pins_unknown_is_refused_before_anything_is_asked(
    card_file: tuple[Path, dict[PinName, str]],
) -> None:
    path, _ = card_file
    result = run("pin", "reset", str(path), "--pin", "signing", "--via", "kiosk",
                 "--date", "2024-08-01T10:00", "--other-unknown")  # fmt: skip
    assert result.exit_code == 1
    assert "only the municipal window" in result.output
    ja = run("pin", "reset", str(path), "--pin", "signing", "--via", "kiosk", "--lang", "ja",
             "--date", "2024-08-01T10:00", "--other-unknown")  # fmt: skip
    assert "市区町村の窓口でのみ" in ja.output


def test_kiosk_reset_2024_checks_the_user_auth_pin_on_the_card(
    card_file: tuple[Path, dict[PinName, str]],
) -> None:
    path, pins = card_file
    env = {"MYNACARD_OTHER_PIN": pins[PinName.USER_AUTH], "MYNACARD_NEW_PIN": "NEWPASS1"}
    result = run("pin", "reset", str(path), "--pin", "signing", "--via", "kiosk",
                 "--date", "2024-08-01T10:00", "--json", env=env)  # fmt: skip
    data = json.loads(result.output)
    assert data["done"] is True and data["kiosk_verify_sw"] == "9000"
    assert data["plan"]["visits"] == 1
    bad = {
        "MYNACARD_OTHER_PIN": wrong_four(pins, PinName.USER_AUTH),
        "MYNACARD_NEW_PIN": "NEWPASS2",
    }
    refused = run("pin", "reset", str(path), "--pin", "signing", "--via", "kiosk",
                  "--date", "2024-08-01T10:00", "--json", env=bad)  # fmt: skip
    assert refused.exit_code == 1
    assert json.loads(refused.output)["refusals"][0]["code"] == "other_pin_wrong"
    assert remaining(path, PinName.USER_AUTH) == 2  # the app's check counted on the card


def test_kiosk_outside_hours_and_four_digit_pins(
    card_file: tuple[Path, dict[PinName, str]],
) -> None:
    path, _ = card_file
    late = run("pin", "reset", str(path), "--pin", "signing", "--via", "kiosk",
               "--date", "2024-08-01T23:30", "--json")  # fmt: skip
    assert json.loads(late.output)["refusals"][0]["code"] == "kiosk_closed"
    four = run("pin", "reset", str(path), "--pin", "text", "--via", "kiosk",
               "--date", "2025-08-01T12:00", "--json")  # fmt: skip
    assert json.loads(four.output)["refusals"][0]["code"] == "kiosk_four_digit"


def test_plan_only_shows_the_voluntary_proxys_two_visits() -> None:
    result = run("pin", "reset", "--pin", "user-auth", "--applicant", "voluntary-proxy",
                 "--date", "2025-06-02", "--plan-only")  # fmt: skip
    out = result.output
    assert result.exit_code == 0, out
    assert "Plan: 2 visit(s)" in out and "not forwarded" in out and "letter of attorney" in out


# ---------------------------------------------------------------------------------------------
# simulate, diagram
# ---------------------------------------------------------------------------------------------


def test_simulate_prints_the_timeline_with_every_counter() -> None:
    result = run("simulate", str(EXAMPLES / "01_three_wrong_across_services.toml"))
    out = result.output
    assert result.exit_code == 0, out
    assert "マイナポータル" in out and "0/3 locked" in out and "Every expectation" in out
    ja = run("simulate", str(EXAMPLES / "01_three_wrong_across_services.toml"), "--lang", "ja")
    assert "シナリオの期待どおり" in ja.output


def test_simulate_json_and_failed_expectations(tmp_path: Path) -> None:
    result = run("simulate", str(EXAMPLES / "02_two_wrong_then_correct.toml"), "--json")
    data = json.loads(result.output)
    assert data["expectations_met"] is True
    assert [e["sw"] for e in data["entries"]][:2] == ["63C2", "63C1"]
    failing = tmp_path / "f.toml"
    failing.write_text(
        'start = "2025-06-01T09:00"\n[[events]]\naction = "verify"\npin = "text"\n'
        'value = "wrong"\nexpect = "9000"\n'
    )
    bad = run("simulate", str(failing))
    assert bad.exit_code == 1 and "expected 9000" in bad.output
    broken = tmp_path / "b.toml"
    broken.write_text('start = "2025-06-01"\n[[events]]\naction = "fly"\n')
    assert run("simulate", str(broken)).exit_code == 2


def test_diagram_check_and_write(tmp_path: Path) -> None:
    assert run("diagram", "--check", "--out", str(ROOT / "docs")).exit_code == 0
    stale = run("diagram", "--check", "--out", str(tmp_path))
    assert stale.exit_code == 1
    written = run("diagram", "--out", str(tmp_path), "--no-png")
    assert written.exit_code == 0
    assert (tmp_path / "pin-lifecycle.dot").exists() and (tmp_path / "access-rules.md").exists()
    assert run("diagram", "--check", "--out", str(tmp_path)).exit_code == 0
    dot = run("diagram", "--show", "dot", "--lang", "ja").output
    assert dot.startswith("// Generated") and "誤入力" in dot
