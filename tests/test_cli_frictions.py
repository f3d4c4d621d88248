"""Issue 12, "a newcomer's frictions": each input a newcomer tried, with the answer it must get.

Most run through ``mynacard``'s entry point in-process (``card_emulator.cli.main``: one-line
errors, exit codes); what needs a real process (the version from the installed metadata, the shell
completion protocol, a terminal for the progress line) runs ``python -m card_emulator.cli``.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

import card_emulator.cli
from card_emulator import Card
from card_emulator.cli import teach_util
from card_emulator.cli.app import app
from card_emulator.pin_names import aliases_of, choices_text, parse_pin_name
from card_emulator.rules import USER_PINS, PinName
from card_emulator.teaching.scenario import ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
PIN_VARIABLES = ("MYNACARD_PIN", "MYNACARD_NEW_PIN", "MYNACARD_OTHER_PIN", "MYNACARD_PINS_JSON")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user: no default card yet (``$XDG_DATA_HOME`` in a temporary directory)."""
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES", *PIN_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(teach_util, "stdin_is_tty", lambda: False)
    return data / "mynumber-card-emulator"


def mynacard(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mynacard ARGS`` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        card_emulator.cli.main(list(args))
    out = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def process(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``mynacard ARGS`` as its own process (``python -m card_emulator.cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of ``mynacard``, as the words that name it; a group that takes an
    argument before its commands (``ctl CARD status``) gets the placeholder ``CARD``."""
    paths: list[tuple[str, ...]] = [()]

    def walk(command: object, prefix: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            paths.append((*prefix, name))
            needs = [p for p in getattr(sub, "params", []) if p.param_type_name == "argument"]
            walk(sub, (*prefix, name, *["CARD"] * len(needs)))

    walk(get_command(app), ())
    return paths


def resolve(words: tuple[str, ...]) -> Any:
    """The click command that ``words`` name (placeholders skipped)."""
    command = get_command(app)
    for word in words:
        command = getattr(command, "commands", {}).get(word, command)
    return command


# ---------------------------------------------------------------------------------------------
# --version, -h, flags, completion
# ---------------------------------------------------------------------------------------------


def test_version_is_the_installed_one() -> None:
    done = process("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"mynacard {version('mynumber-card-emulator')}\n"
    assert process("-V").stdout == done.stdout


@pytest.mark.parametrize("words", command_paths(), ids=lambda w: " ".join(w) or "mynacard")
def test_dash_h_is_help_on_every_command(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = mynacard(capsys, *words, "-h")
    assert code == 0, err
    usage = out.splitlines()[0]
    named = [w for w in words if w != "CARD"]
    assert usage.startswith("Usage: mynacard") and all(w in usage.split() for w in named), usage
    assert resolve(words).name == (named[-1] if named else "mynacard")
    assert "-h, --help" in out
    code_long, out_long, _ = mynacard(capsys, *words, "--help")
    assert code_long == 0 and out_long == out


def test_no_flag_is_shown_as_taking_a_value(capsys: pytest.CaptureFixture[str]) -> None:
    """A flag's help line is its names and its help: no ``<bool>`` (typer's rich help wrote one,
    so `rules --json true` looked right and failed)."""
    flags_seen = 0
    for words in command_paths():
        command = resolve(words)
        _, out, _ = mynacard(capsys, *words, "-h")
        assert "<bool>" not in out
        for param in command.params:
            if getattr(param, "is_flag", False) and not getattr(param, "hidden", False):
                flags_seen += 1
                name = max(param.opts, key=len)  # type: ignore[attr-defined]
                terms = [line.strip().split("  ")[0] for line in out.splitlines()
                         if line.startswith("  -")]  # click: names, 2+ spaces, help  # fmt: skip
                term = next(t for t in terms if re.search(rf"(^|[ ,/]){name}\b", t))
                line = term
                assert re.fullmatch(r"-[\w-]+((, | / )-[\w-]+)*", term), line
    assert flags_seen > 10
    code, _, err = mynacard(capsys, "rules", "--json", "true")
    assert code == 2 and one_line(err) and "unexpected extra argument" in err
    code, out, _ = mynacard(capsys, "rules", "--json")
    assert code == 0 and json.loads(out)["pins"]


def test_usage_mistakes_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = mynacard(capsys, "frobnicate")
    assert code == 2 and err == "mynacard: No such command 'frobnicate'. (see 'mynacard -h')\n"
    code, _, err = mynacard(capsys, "pin", "status", "--bogus")
    assert code == 2 and one_line(err) and err.startswith("mynacard pin status: No such option")


def test_shell_completion_installs_and_completes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = process("--install-completion", "bash", env=env)
    assert done.returncode == 0, done.stderr
    script = home / ".bash_completions" / "mynacard.sh"
    assert f"source '{script}'" in (home / ".bashrc").read_text()
    # The installed script, sourced by bash, asks `mynacard` (here: python -m) for the words.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "mynacard"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m card_emulator.cli "$@"\n')
    shim.chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    line = (
        f"source '{script}'; COMP_WORDS=(mynacard pin st); COMP_CWORD=2; "
        '_mynacard_completion mynacard; echo "${COMPREPLY[@]}"; '
        "COMP_WORDS=(mynacard pin verify --pin user); COMP_CWORD=4; "
        '_mynacard_completion mynacard; echo "${COMPREPLY[@]}"'
    )
    completed = subprocess.run(
        [bash, "--norc", "-c", line],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        timeout=120,
    )
    assert completed.stdout.splitlines() == ["status", "user_auth"], completed.stderr


# ---------------------------------------------------------------------------------------------
# The default card: init, info, apdu, pin
# ---------------------------------------------------------------------------------------------


def test_init_info_apdu_and_pin_default_to_the_default_card(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not home.exists()
    code, out, err = mynacard(capsys, "init", "--seed", "5", "--json")
    assert code == 0, err
    default = home / "default.card"
    created = json.loads(out)
    assert created["path"] == str(default) and default.is_file()
    assert home.stat().st_mode & 0o777 == 0o700
    code, out, err = mynacard(capsys, "info", "--json")
    assert code == 0, err
    assert json.loads(out)["holder"] == created["holder"]
    code, out, err = mynacard(capsys, "apdu", "00A4040C0AD392F000260100000001", "00A4020C020018",
                              "00200080")  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[-1].startswith("< 63C3")
    code, out, _ = mynacard(capsys, "pin", "status", "--json")
    assert code == 0 and [p["tries_left"] for p in json.loads(out)["pins"]] == [5, 3, 3, 3]
    code, _, err = mynacard(capsys, "init")
    assert code == 2 and one_line(err) and "already exists" in err  # never overwritten


def test_init_of_the_default_path_given_by_hand(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = mynacard(capsys, "init", str(home / "default.card"))
    assert code == 0, err
    assert (home / "default.card").is_file()


def test_init_elsewhere_needs_an_existing_directory(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = mynacard(capsys, "init", str(tmp_path / "missing" / "me.card"))
    assert code == 2 and one_line(err) and "no such directory" in err
    assert not (tmp_path / "missing").exists()


def test_info_without_a_default_card_says_how_to_make_one(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = mynacard(capsys, "info")
    assert code == 2 and one_line(err) and "mynacard init" in err


# ---------------------------------------------------------------------------------------------
# init: 照合番号A and B
# ---------------------------------------------------------------------------------------------


def test_init_prints_the_verification_codes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = mynacard(capsys, "init", str(tmp_path / "a.card"), "--seed", "8", "--json")
    assert code == 0, err
    data = json.loads(out)
    with Card.open(tmp_path / "a.card") as card:
        holder = card.issuer.holder()
    assert data["verification_code_a"] == holder.my_number
    code_b = data["verification_code_b"]
    assert len(code_b) == 14 and code_b.endswith(f"{holder.card_expiry.year}{holder.security_code}")
    code, text, _ = mynacard(capsys, "init", str(tmp_path / "b.card"), "--seed", "8")
    assert code == 0
    assert f"照合番号A (verification code A: the My Number): {holder.my_number}" in text
    assert f"照合番号B (verification code B: birth date, expiry year, code): {code_b}" in text


# ---------------------------------------------------------------------------------------------
# apdu: standard input, --json, --lang
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def card_path(tmp_path: Path) -> Path:
    path = tmp_path / "holder.card"
    Card.create(path, seed=51, issued=date(2024, 4, 1)).close()
    return path


def test_apdu_reads_standard_input(card_path: Path) -> None:
    lines = (
        "# the JPKI AP, then the user-authentication PIN's EF\n"
        "00A4040C0AD392F000260100000001\n"
        "\n"
        "00 A4 02 0C 02 00 18   # with spaces, and a comment\n"
        "00200080\n"
    )
    done = process("apdu", str(card_path), "-", "--json", stdin=lines)
    assert done.returncode == 0, done.stderr
    exchanges = json.loads(done.stdout)["exchanges"]
    assert [e["sw"] for e in exchanges] == ["9000", "9000", "63C3"]
    assert exchanges[2] == {
        "command": "00200080", "response": "", "sw": "63C3",
        "meaning": "verification failed, 3 tries left", "action": "query", "pin": "user_auth",
        "tries_left": 3, "reason": "tries left",
    }  # fmt: skip
    mixed = process("apdu", str(card_path), "00A4040C0AD392F000260100000001", "-",
                    stdin="00A4020C020018\n00200080\n")  # fmt: skip
    assert mixed.returncode == 0, mixed.stderr
    assert [line[:6] for line in mixed.stdout.splitlines() if line.startswith("<")] == [
        "< 9000", "< 9000", "< 63C3"]  # fmt: skip


def test_apdu_json_redacts_pins(card_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = mynacard(capsys, "apdu", str(card_path), "00A4040C0AD392F000260100000001",
                              "00A4020C020018", "002000800431323334")  # fmt: skip
    assert code == 0, err
    assert "31323334" not in out and "<4 bytes redacted>" in out
    code, out, _ = mynacard(capsys, "apdu", str(card_path), "--json",
                            "00A4040C0AD392F000260100000001", "00A4020C020018",
                            "002000800431323334")  # fmt: skip
    last = json.loads(out)["exchanges"][-1]
    assert "31323334" not in out and last["command"] == "0020008004<4 bytes redacted>"
    assert last["action"] == "verify" and last["pin"] == "user_auth"


def test_apdu_bad_stdin_line_is_named_not_echoed(card_path: Path) -> None:
    done = process("apdu", str(card_path), "-", stdin="00A4040C0AD392F000260100000001\n0020 PIN1\n")
    assert done.returncode == 2 and one_line(done.stderr)
    assert "standard input line 2" in done.stderr and "PIN1" not in done.stderr


def test_apdu_with_an_empty_standard_input_says_so(card_path: Path) -> None:
    """`apdu CARD -` whose input has only comments sent nothing and exited 0, saying nothing."""
    done = process("apdu", str(card_path), "-", stdin="# SELECT JPKI, forgotten\n\n")
    assert done.returncode == 2 and one_line(done.stderr) and done.stdout == ""
    assert "standard input held no APDU" in done.stderr


def test_apdu_lang_is_checked_like_rules(
    card_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (("apdu", str(card_path), "--lang", "xx", "00A4040C0AD392F000260100000001"),
                 ("rules", "--lang", "xx"),
                 ("apdu", str(tmp_path / "none.card"), "--lang", "xx", "00B0000000")):  # fmt: skip
        code, out, err = mynacard(capsys, *args)
        assert code == 2 and out == "" and one_line(err), args
        assert "unknown language 'xx': use ja or en" in err


def test_apdu_needs_an_apdu(card_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = mynacard(capsys, "apdu", str(card_path))
    assert code == 2 and one_line(err) and "give command APDUs" in err


# ---------------------------------------------------------------------------------------------
# PIN names: one spelling, aliases accepted
# ---------------------------------------------------------------------------------------------


def test_every_pin_name_and_its_aliases_parse() -> None:
    for pin in PinName:  # a PinName added to rules.py is accepted with no change elsewhere
        assert parse_pin_name(pin.value) is pin
        assert parse_pin_name(pin.value.replace("_", "-").upper()) is pin
        for alias in aliases_of(pin):
            assert parse_pin_name(alias) is pin
    assert parse_pin_name("User Auth") is PinName.USER_AUTH
    assert parse_pin_name("ＵＳＥＲ－ＡＵＴＨ") is PinName.USER_AUTH  # full-width (全角)
    assert parse_pin_name("住基") is PinName.RESIDENT_REGISTRY
    for old_cli_name, pin in (("user-auth", PinName.USER_AUTH), ("resident",
                              PinName.RESIDENT_REGISTRY), ("text", PinName.TEXT_INPUT_HELPER)):  # fmt: skip
        assert parse_pin_name(old_cli_name) is pin
    with pytest.raises(ValueError, match="'moon' is not a PIN name: choose signing, user_auth"):
        parse_pin_name("moon", USER_PINS)
    with pytest.raises(ValueError, match="text_code_a cannot be used here"):
        parse_pin_name("text-code-a", USER_PINS)


@pytest.mark.parametrize(
    "spelling", ["user_auth", "user-auth", "auth", "USER AUTH", "利用者証明用"]
)
def test_the_cli_takes_any_spelling_and_prints_the_canonical_one(
    spelling: str, card_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("MYNACARD_PIN", "0000" if spelling != "auth" else "9999")
    monkeypatch.setattr(teach_util, "stdin_is_tty", lambda: False)
    code, out, _ = mynacard(capsys, "pin", "verify", str(card_path), "--pin", spelling, "--json")
    answer = json.loads(out)
    assert answer["pin"] == "user_auth" and answer["step"] == "verify"
    assert code == (0 if answer["ok"] else 1)


def test_pin_choices_are_listed(card_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = mynacard(capsys, "pin", "verify", "-h")
    flat = " ".join(out.split())
    assert choices_text(USER_PINS) in flat
    code, _, err = mynacard(capsys, "pin", "verify", str(card_path), "--pin", "moon")
    assert code == 2 and one_line(err)
    assert "'moon' is not a PIN name: choose signing, user_auth, resident_registry or " in err
    code, out, _ = mynacard(capsys, "rules", "--json")
    pins = json.loads(out)["pins"]
    assert [p["cli_name"] for p in pins] == [p.value for p in USER_PINS]
    assert "user-auth" in pins[1]["aliases"]


def test_pin_status_json_says_ok_for_a_healthy_pin(
    card_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teach_util, "stdin_is_tty", lambda: False)
    code, out, _ = mynacard(capsys, "pin", "status", str(card_path), "--json")
    assert code == 0
    pins = json.loads(out)["pins"]
    assert [(p["pin"], p["ok"], p["state"]) for p in pins] == [
        (pin.value, True, "ok") for pin in USER_PINS
    ]
    with Card.open(card_path) as card:
        for _ in range(3):
            card.transmit(bytes.fromhex("00A4040C0AD392F000260100000001"))
            card.transmit(bytes.fromhex("00A4020C020018"))
            card.transmit(bytes.fromhex("0020008004FFFFFFFF"))  # wrong: not even digits
        for _ in range(1):
            card.transmit(bytes.fromhex("00A4040C0AD3921000310001010401"))
            card.transmit(bytes.fromhex("00A4020C02001C"))
            card.transmit(bytes.fromhex("0020008004FFFFFFFF"))
    code, out, _ = mynacard(capsys, "pin", "status", str(card_path), "--json")
    by_pin = {p["pin"]: p for p in json.loads(out)["pins"]}
    assert (by_pin["user_auth"]["ok"], by_pin["user_auth"]["state"]) == (False, "locked")
    assert by_pin["user_auth"]["tries_left"] == 0
    assert (by_pin["resident_registry"]["ok"], by_pin["resident_registry"]["state"]) == (
        True, "wrong_entries")  # fmt: skip


def test_reset_via_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = mynacard(capsys, "pin", "reset", "--via", "moon", "--plan-only")
    assert code == 2 and one_line(err)
    assert "'moon': choose window or kiosk" in err and "Channel" not in err
    code, _, err = mynacard(capsys, "pin", "reset", "--applicant", "cat", "--plan-only")
    assert code == 2 and "choose holder, legal-representative or voluntary-proxy" in err
    code, out, _ = mynacard(capsys, "pin", "reset", "--via", "KIOSK", "--pin", "sign",
                            "--plan-only", "--date", "2024-08-02", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["channel"] == "kiosk"


# ---------------------------------------------------------------------------------------------
# Seeds, scenario days, scenario files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("init", "{tmp}/n.card"), ("learn",)])
def test_negative_seeds_are_refused(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(tmp=tmp_path) for a in command]
    code, out, err = mynacard(capsys, *args, "--seed", "-1")
    assert code == 2 and out == "" and one_line(err)
    assert "-1 is negative: a seed is a whole number from 0" in err
    assert not (tmp_path / "n.card").exists()


def test_negative_scenario_days_and_seeds_are_refused() -> None:
    event = {"action": "verify", "pin": "user_auth", "value": "wrong"}
    with pytest.raises(ScenarioError, match=r"event 1: day must be .* \(0 or more\)"):
        parse_scenario({"start": "2025-06-02T09:00", "events": [{**event, "day": -1}]})
    with pytest.raises(ScenarioError, match=r"card\.seed must be a whole number from 0"):
        parse_scenario({"start": "2025-06-02T09:00", "events": [event], "card": {"seed": -3}})
    assert parse_scenario({"start": "2025-06-02T09:00", "events": [{**event, "day": 0}]})


@pytest.mark.parametrize("name", ["noise.bin", "noise.toml", "noise.json"])
def test_a_binary_file_is_not_a_scenario(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ScenarioError, match="not a scenario"):
        load_scenario(path)
    code, _, err = mynacard(capsys, "simulate", str(path))
    assert code == 2 and one_line(err) and f"{path}: not a scenario" in err
    assert "codec" not in err and "decode" not in err


def test_a_text_file_that_is_not_toml_is_not_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "notes.toml"
    path.write_text("hello, this is not TOML\n")
    with pytest.raises(ScenarioError, match=r"notes.toml: not a scenario \(TOML: "):
        load_scenario(path)


# ---------------------------------------------------------------------------------------------
# diagram: the path first, never ./docs outside a checkout
# ---------------------------------------------------------------------------------------------


def test_diagram_names_the_path_before_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "dot" else which(name, *a, **k)
    )
    target = tmp_path / "nonexistent" / "docs"
    code, _, err = mynacard(capsys, "diagram", "--out", str(target))
    assert code == 2 and one_line(err)
    assert (
        err
        == f"mynacard: cannot write to {target}: {target.parent} does not exist (only docs is made)\n"
    )
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, _, err = mynacard(capsys, "diagram", "--out", str(a_file))
    assert code == 2 and f"cannot write to {a_file}: not a directory" in err
    code, _, err = mynacard(capsys, "diagram", "--out", str(tmp_path / "docs"))
    assert code == 2 and "Graphviz" in err  # a good path: now Graphviz is what is missing
    assert not (tmp_path / "docs").exists()


def test_diagram_outside_a_checkout_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (("diagram", "--no-png"), ("diagram", "--check")):
        code, _, err = mynacard(capsys, *args)
        assert code == 2 and one_line(err)
        assert f"{tmp_path} is not inside a checkout of mynumber-card-emulator: give --out" in err
    assert list(tmp_path.iterdir()) == []


def test_diagram_inside_the_checkout_uses_its_docs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT / "card_emulator" / "teaching")  # any folder of the checkout
    code, out, err = mynacard(capsys, "diagram", "--check")
    assert (code, out) == (0, "docs are current\n"), err


# ---------------------------------------------------------------------------------------------
# One progress line on a terminal, none for scripts
# ---------------------------------------------------------------------------------------------


def on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """``mynacard ARGS`` with stdout and stderr on a pseudo-terminal: (exit code, what it shows)."""
    primary, secondary = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "card_emulator.cli", *args],
        stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, cwd=ROOT,
        env={**os.environ, **env},
    )  # fmt: skip
    os.close(secondary)
    shown = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            child.kill()
            break
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    return child.wait(timeout=60), shown.decode()


def test_a_long_wait_gets_one_progress_line_on_a_terminal(tmp_path: Path) -> None:
    env = {"MYNACARD_PROGRESS_AFTER": "0", "MYNACARD_KEY_CACHE": str(tmp_path / "keys")}
    code, shown = on_a_terminal("init", str(tmp_path / "a.card"), "--seed", "1234567", env=env)
    assert code == 0, shown
    lines = [line for line in shown.splitlines() if "making the test card" in line]
    assert len(lines) == 1
    assert re.fullmatch(r"mynacard: making the test card of seed 1234567 \(its RSA keys\) … "
                        r"done \(\d+\.\d s\)", lines[0].strip())  # fmt: skip
    code, shown = on_a_terminal("init", str(tmp_path / "b.card"), "--seed", "7", "--json", env=env)
    assert code == 0 and "making the test card" not in shown
    json.loads(shown)
    piped = process("init", str(tmp_path / "c.card"), "--seed", "7", env=env)
    assert piped.returncode == 0 and "making" not in piped.stderr + piped.stdout


def test_japanese_help_wraps_and_shows_no_bool() -> None:
    """Japanese help is drawn by rich (Japanese text wrapped by display width, panel titles in
    Japanese); its flags are shown without a value too."""
    env = {"LANG": "ja_JP.UTF-8", "LC_ALL": "", "COLUMNS": "80"}
    done = process("pin", "status", "-h", env=env)
    assert done.returncode == 0, done.stderr
    assert "オプション" in done.stdout and "<bool>" not in done.stdout
    assert "--json " in done.stdout and "スクリプト用にJSONで出力" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80


def test_the_library_refuses_a_negative_seed_too(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed must be a whole number from 0, not -1"):
        Card.create(None, seed=-1)
    with pytest.raises(ValueError, match="from 0"):
        Card.create(tmp_path / "n.card", seed=-5)
    assert not (tmp_path / "n.card").exists()


@pytest.mark.parametrize("command", [["pin", "reset"], ["init"], ["serve"]])
def test_japanese_option_help_is_never_cut_short(command: list[str]) -> None:
    """A Japanese sentence has no space to wrap at: rich's table cut it with "…" mid-sentence
    (16 cuts in `pin reset -h`). Every option's help is shown whole, folded onto more lines."""
    env = {"LANG": "ja_JP.UTF-8", "LC_ALL": "", "COLUMNS": "80"}
    done = process(*command, "-h", env=env)
    assert done.returncode == 0, done.stderr
    help_column = [line.rstrip(" │") for line in done.stdout.splitlines() if "│" in line]
    cut = [
        line for line in help_column if line.endswith("…") and not line.strip("│ ").startswith("-")
    ]
    assert not cut, cut
    text = "".join(
        line.split("│")[1].split()[-1] for line in done.stdout.splitlines() if "│" in line
    )
    if command == ["init"]:
        assert "ファイル自体はカードごとの乱数IDを持つ)。0以上。" in text
