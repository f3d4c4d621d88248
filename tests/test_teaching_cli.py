"""The teaching commands as a user runs them (typer's CliRunner): output, JSON, language, exit codes.

PIN values come from environment variables or a hidden prompt and never appear in the output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import card_emulator.cli  # registers every command module on the app
from card_emulator import Card
from card_emulator.cli import teach_util
from card_emulator.cli.app import app
from card_emulator.rules import APP_AIDS, PIN_SPECS, USER_PINS, AppName, PinName

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "card_emulator" / "teaching" / "scenarios"
# No PIN comes from the environment the tests run in; None unsets a variable.
PIN_VARIABLES = ("MYNACARD_PIN", "MYNACARD_NEW_PIN", "MYNACARD_OTHER_PIN", "MYNACARD_PINS_JSON")
CLEAN_ENV: dict[str, str | None] = {
    "LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "NO_COLOR": "",
    **dict.fromkeys(PIN_VARIABLES),
}  # fmt: skip


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """The command through typer's runner: stdin is not a terminal, output mixes stderr."""
    runner = CliRunner()
    return runner.invoke(app, list(args), env={**CLEAN_ENV, **(env or {})}, input=input)


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """The command through ``mynacard``'s entry point, which turns library errors into one line
    and exit code 2; stdin is not a terminal. Returns (exit code, stdout, stderr)."""
    for name, value in CLEAN_ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(teach_util, "stdin_is_tty", lambda: False)
    with pytest.raises(SystemExit) as done:
        card_emulator.cli.main(list(args))
    captured = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


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
    assert "signing password" in en and "Resets on 2025-06-01 (2025 rule)" in en
    assert "マイナポータル" in en and "[seed 004]" in en  # where to change, each fact sourced
    ja = run("rules", env={"LANG": "ja_JP.UTF-8"}).output
    flat = "".join(ja.split())  # cells wrap: compare without the line breaks and padding
    assert "署名用電子証明書の暗証番号" in flat and "再設定の場所" in flat and "[資料004]" in flat
    forced = run("rules", "--lang", "en", env={"LANG": "ja_JP.UTF-8"}).output
    assert "The four PINs" in forced
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


def test_pin_status_all_adds_the_references_a_holder_never_types(tmp_path: Path) -> None:
    """Issue 9: the teaching commands cover the new references. `--all` queries every reference
    on the card (spending nothing), with the card's own maximum, and a locked one is said to have
    no public reset procedure (card-interface.md §5.6 leaves it unknown)."""
    path = tmp_path / "codes.card"
    with Card.create(path, seed=52, max_tries={PinName.SURFACE_CODE_A: 4}) as card:
        for _ in range(4):  # lock 照合番号A of the card-surface AP with wrong entries
            card.transmit(bytes.fromhex("00A4040C0AD3921000310001010402"))
            card.transmit(bytes.fromhex("00A4020C020013"))
            card.transmit(bytes.fromhex("002000800C") + b"000000000000")
    data = json.loads(run("pin", "status", str(path), "--all", "--json").output)
    by_name = {p["pin"]: p for p in data["pins"]}
    assert list(by_name) == [pin.value for pin in PinName]
    assert by_name["surface_code_a"]["state"] == "locked"
    assert by_name["surface_code_a"]["max_tries"] == 4
    assert by_name["text_code_b"]["tries_left"] == by_name["text_code_b"]["max_tries"] == 10
    assert remaining(path, PinName.SURFACE_BIRTH_DATE) == 10  # asked, not spent
    shown = run("pin", "status", str(path), "--all", env={"COLUMNS": "80"}).output
    assert "0/4" in shown and "LOCKED: no public reset" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    ja = run("pin", "status", str(path), "--all", "--lang", "ja", env={"COLUMNS": "80"}).output
    assert "共通カードAPの暗証番号" in ja and "公開された再設定手" in ja
    assert len(json.loads(run("pin", "status", str(path), "--json").output)["pins"]) == 4


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


def test_the_hidden_prompt_does_not_echo(
    card_file: tuple[Path, dict[PinName, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, pins = card_file
    value = pins[PinName.SIGNING]
    monkeypatch.setattr(teach_util, "stdin_is_tty", lambda: True)  # as in a terminal
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
    assert "00A4040C" in out and "<4 bytes redacted>" in out and "EF 001C" in out
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


@pytest.mark.parametrize(
    "command",
    [
        ("pin", "verify"),
        ("pin", "change", "--pin", "text"),
        ("pin", "reset", "--pin", "resident", "--date", "2025-06-02"),
        ("pin", "reset", "--pin", "signing", "--via", "kiosk", "--date", "2025-06-02T10:00"),
    ],
    ids=["verify", "change", "reset-window", "reset-kiosk"],
)
def test_a_missing_card_file_is_said_before_any_pin_is_asked_for(
    command: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(monkeypatch, capsys, *command, str(tmp_path / "nope.card"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mynacard: ") and "no such card file" in err


def test_pin_verify_of_a_missing_card_with_piped_stdin(tmp_path: Path) -> None:
    # The report: no GetPassWarning, no "aborted", only the card file's one-line error.
    env = {k: v for k, v in os.environ.items() if k not in PIN_VARIABLES} | {"LANG": "C.UTF-8"}
    done = subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", "pin", "verify", "nope.card"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp_path, env=env,
        check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr == "mynacard: nope.card: no such card file (create one with `mynacard init`)\n"
    )


@pytest.mark.parametrize(
    ("command", "env", "missing"),
    [
        (("verify", "--pin", "user-auth"), {}, "MYNACARD_PIN"),
        (("change", "--pin", "user-auth"), {"MYNACARD_PIN": "0000"}, "MYNACARD_NEW_PIN"),
        (("reset", "--pin", "user-auth", "--date", "2025-06-02"), {}, "MYNACARD_NEW_PIN"),
        (("reset", "--pin", "signing", "--via", "kiosk", "--date", "2025-06-02T10:00"),
         {"MYNACARD_NEW_PIN": "NEWPASS1"}, "MYNACARD_OTHER_PIN"),
    ],
    ids=["verify", "change", "reset-window", "reset-kiosk"],
)  # fmt: skip
def test_without_a_terminal_a_pin_must_come_from_the_environment(
    card_file: tuple[Path, dict[PinName, str]],
    command: tuple[str, ...],
    env: dict[str, str],
    missing: str,
) -> None:
    path, _ = card_file
    result = run("pin", command[0], str(path), *command[1:], env=env)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1, result.output  # one line, no prompt
    assert f"set {missing}" in result.output and "not a terminal" in result.output
    assert remaining(path, PinName.USER_AUTH) == 3  # nothing reached the card
    assert remaining(path, PinName.SIGNING) == 5
    ja = run("pin", command[0], str(path), *command[1:], "--lang", "ja", env=env)
    assert ja.exit_code == 2 and f"{missing}を設定してください" in ja.output


def test_apdu_explain_shows_the_one_redacted_form(
    card_file: tuple[Path, dict[PinName, str]],
) -> None:
    path, pins = card_file
    aid = APP_AIDS[AppName.JPKI]
    wrong = wrong_four(pins, PinName.USER_AUTH)
    commands = {
        "select": f"00A4040C{len(aid):02X}{aid.hex()}",
        "select_ef": "00A4020C020018",
        "verify": "00200080" + "04" + wrong.encode().hex(),
        "malformed": "00200080313233",  # Lc 31 promises 49 bytes; "123" follows
        "change": "0024018004" + b"5678".hex(),
    }
    plain = run("apdu", str(path), *commands.values())
    shown = [line[2:] for line in plain.output.splitlines() if line.startswith("> ")]
    assert len(shown) == len(commands)
    assert sum("redacted>" in form for form in shown) == 3
    result = run("apdu", str(path), *commands.values(), "--explain")
    out = result.output
    assert result.exit_code == 0, out
    rows = [line for line in out.splitlines() if re.match(r"^\d+ ", line)]
    assert len(rows) == len(commands)  # one row per exchange
    for form in shown:
        assert form in out  # the explanation shows the same redacted form
    flat = out.replace(" ", "").upper()
    for secret in (wrong, "5678"):
        assert secret.encode().hex().upper() not in flat
    assert "313233" not in flat
    assert "the application is selected" in out  # a SELECT's 9000 is a selection
    wide = run("apdu", str(path), commands["malformed"], "--explain", env={"COLUMNS": "200"})
    assert "VERIFY: Lc says 49 bytes of data, but 2 follow" in wide.output  # named, not "unknown"
    ja = run("apdu", str(path), commands["malformed"], "--explain", "--lang", "ja").output
    assert "313233" not in ja.replace(" ", "")
    assert "Lcは49バイト" in "".join(ja.split()) and "malformed" not in ja  # one language


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
    assert "Plan: 1 visit\n" in out and "Done" in out and "4826" not in out
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
    assert "Plan: 2 visits\n" in out and "not forwarded" in out and "letter of attorney" in out


# ---------------------------------------------------------------------------------------------
# simulate, diagram
# ---------------------------------------------------------------------------------------------


def test_simulate_prints_the_timeline_with_every_counter() -> None:
    result = run("simulate", str(EXAMPLES / "01_three_wrong_across_services.toml"),
                 env={"COLUMNS": "200"})  # fmt: skip
    out = result.output
    assert result.exit_code == 0, out
    assert "マイナポータル" in out and "0/3 locked" in out and "Every expectation" in out
    assert run("simulate", "01", env={"COLUMNS": "200"}).output == out  # packaged, by number
    listed = run("simulate", "--list", env={"COLUMNS": "200"}).output
    assert "01" in listed and "14" in listed and "Three wrong entries" in listed
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


@pytest.mark.parametrize(
    "value", ["[]", '"123456"', '{"signing": 123456}', '{"nope": "1234"}', "{not json"]
)
def test_simulate_on_a_card_needs_a_json_object_of_strings(
    card_file: tuple[Path, dict[PinName, str]], value: str
) -> None:
    path, _ = card_file
    scenario = str(EXAMPLES / "01_three_wrong_across_services.toml")
    result = run("simulate", scenario, "--card", str(path), env={"MYNACARD_PINS_JSON": value})
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "MYNACARD_PINS_JSON" in result.output
    assert "123456" not in result.output and "1234" not in result.output  # no value quoted
    assert remaining(path, PinName.USER_AUTH) == 3  # the card was not touched


def test_diagram_check_without_a_docs_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the repository root
    result = run("diagram", "--check")
    assert result.exit_code == 2
    assert result.output == (
        f"mynacard: {tmp_path} is not inside a checkout of mynumber-card-emulator: give --out DIR "
        "(or run from the repository)\n"
    )
    assert not (tmp_path / "docs").exists()  # --check creates nothing
    assert run("diagram", "--check", "--out", str(tmp_path / "elsewhere")).exit_code == 2


def test_diagram_without_graphviz_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "dot" else which(name, *a, **k)
    )
    out = tmp_path / "docs"
    result = run("diagram", "--out", str(out))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("mynacard: ")
    assert "--no-png" in result.output
    assert "apt-get install graphviz fonts-ipafont-gothic" in result.output
    assert not out.exists()
    assert run("diagram", "--out", str(out), "--no-png").exit_code == 0


def test_diagram_creates_only_the_directory_asked_for(tmp_path: Path) -> None:
    result = run("diagram", "--out", str(tmp_path / "missing" / "docs"), "--no-png")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "cannot write to" in result.output
    assert not (tmp_path / "missing").exists()


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
