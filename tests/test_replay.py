"""Replaying traces (card_emulator.testing.replay) and `mynacard trace show|replay|diff`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from card_emulator import AppName, Card, PinName
from card_emulator.cli import main
from card_emulator.testing import (
    CardRemovedError,
    ForceStatus,
    Recorder,
    RemoveCard,
    Slot,
    Tear,
    assert_replays,
    diff_traces,
    query,
    read_ef,
    read_trace,
    replay,
    select_app,
    send,
    sign,
    verify,
)
from card_emulator.testing.personas import LONG_ADDRESS


def record_a_client(card: Card, path: Path) -> None:
    """Reads, a wrong and a right VERIFY, a CHANGE, a refused signature, a reset."""
    pins = card.created_pins or {}
    with Recorder(path).attach(card):
        select_app(card, AppName.JPKI)
        read_ef(card, 0x000A)
        verify(card, PinName.USER_AUTH, "0000")
        verify(card, PinName.USER_AUTH, pins[PinName.USER_AUTH])
        send(card, "0024018004" + b"1357".hex())  # CHANGE to a new (test) value
        verify(card, PinName.USER_AUTH, "1357")
        select_app(card, AppName.JPKI)
        sign(card, 0x0017, b"\x30" * 35)
        send(card, "0084000008")  # random: compared by length
        card.reset()
        select_app(card, AppName.TEXT)
        verify(card, PinName.TEXT_CODE_B, pins[PinName.TEXT_CODE_B])
        read_ef(card, 0x0002)


def test_a_recorded_client_replays_on_a_card_made_from_the_header(
    mynacard: Card, tmp_path: Path
) -> None:
    path = tmp_path / "client.jsonl"
    record_a_client(mynacard, path)
    result = assert_replays(path)
    assert result.ok and result.exchanges == sum(1 for _ in read_trace(path).exchanges())


def test_a_persona_card_replays_with_its_holder(tmp_path: Path) -> None:
    card = LONG_ADDRESS.card()
    path = tmp_path / "long.jsonl"
    record_a_client(card, path)
    assert replay(path).ok


def test_the_first_divergence_is_one_readable_diff(mynacard: Card, tmp_path: Path) -> None:
    path = tmp_path / "client.jsonl"
    record_a_client(mynacard, path)
    lines = path.read_text().splitlines()
    # Pretend the client once got a signature where the card refused: a changed behaviour.
    index, entry = next(
        (i, json.loads(line)) for i, line in enumerate(lines) if '"sw":"6982"' in line
    )
    entry.update(sw="9000", response="AB" * 256 + "9000", decision="accepted")
    lines[index] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    result = replay(path)
    assert result.divergence is not None
    text = str(result.divergence)
    assert text.splitlines()[0] == (
        f"first divergence at exchange {entry['n']} (line {index + 1} of the recorded trace)"
    )
    assert "- recorded  9000 with 256 bytes of data" in text
    assert "+ replayed  6982" in text and "refused: the key needs a VERIFY of user_auth" in text
    assert "differ: sw, response" in text
    with pytest.raises(AssertionError, match="first divergence"):
        assert_replays(path)


def test_faults_replay_as_they_happened(mynacard: Card, tmp_path: Path) -> None:
    slot = Slot(mynacard, [ForceStatus(0x6581, match="SIGN"), RemoveCard(after=11)])
    path = tmp_path / "faults.jsonl"
    with Recorder(path).attach(slot):
        verify(slot, PinName.USER_AUTH, (mynacard.created_pins or {})[PinName.USER_AUTH])
        sign(slot, 0x0017, b"\x30" * 35)
        slot.add_fault(Tear(pin="user_auth", reinsert_after=0))
        with pytest.raises(CardRemovedError):
            verify(slot, PinName.USER_AUTH, "0000")
        query(slot, PinName.USER_AUTH)
        with pytest.raises(CardRemovedError):
            query(slot, PinName.USER_AUTH)  # the 11th exchange removed the card
        slot.insert()
        query(slot, PinName.USER_AUTH)
    assert replay(path).ok


def test_diff_traces(mynacard: Card, tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    record_a_client(mynacard, a)
    record_a_client(Card.create(None, seed=0), b)
    assert diff_traces(a, b) is None
    record_a_client(Card.create(None, seed=1), b)  # another certificate
    divergence = diff_traces(a, b)
    assert divergence is not None and divergence.fields == ("response",)
    assert divergence.n == 3
    assert "- A" in str(divergence) and "+ B" in str(divergence)


def test_the_trace_cli_shows_replays_and_diffs(
    mynacard: Card, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "client.jsonl"
    record_a_client(mynacard, path)

    def run(*argv: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        captured = capsys.readouterr()
        return int(done.value.code or 0), captured.out + captured.err

    code, out = run("trace", "show", str(path))
    assert code == 0
    assert out.startswith("trace of card seed 0 (standard, issued 2026-04-01")
    assert "0020008004<4 bytes redacted>" in out and "why: " in out and "-- reset" in out
    code, out = run("trace", "show", "--refusals", str(path))
    assert "select_app" not in out and "6982" in out
    count = sum(1 for _ in read_trace(path).exchanges())
    assert run("trace", "replay", str(path)) == (0, f"replayed {count} exchanges: no divergence\n")
    code, out = run("trace", "diff", str(path), str(path))
    assert (code, out) == (0, f"no difference in {count} exchanges\n")
    other = tmp_path / "other.jsonl"
    other.write_text(path.read_text().replace('"sw":"63C2"', '"sw":"63C1"', 1))
    code, out = run("trace", "diff", str(path), str(other))
    assert code == 1 and "differ: sw" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    code, out = run("trace", "show", str(bad))
    assert (
        code == 2
        and out.startswith("mynacard: ")
        and "line 1" in out
        and len(out.splitlines()) == 1
    )


def test_replay_on_a_card_file_spends_nothing_of_it(tmp_path: Path) -> None:
    card_path, before = tmp_path / "me.card", tmp_path / "before.card"
    with Card.create(card_path, seed=0) as card:
        pins = dict(card.created_pins or {})
    shutil.copyfile(card_path, before)
    trace, right = tmp_path / "wrong.jsonl", tmp_path / "right.jsonl"
    with Card.open(card_path) as card:
        with Recorder(trace).attach(card):
            verify(card, PinName.USER_AUTH, "0000")
        with Recorder(right).attach(card):
            verify(card, PinName.USER_AUTH, pins[PinName.USER_AUTH])
    with pytest.raises(SystemExit) as done:
        main(["trace", "replay", str(trace), "--card", str(before)])
    assert done.value.code == 0
    with Card.open(before) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 3  # a copy was used
        verify(card, PinName.USER_AUTH, "0000")
        with pytest.raises(ValueError, match="pass pins="):
            replay(right, card)  # a card from a file: its PINs are not known here
        assert replay(right, card, pins={"user_auth": pins[PinName.USER_AUTH]}).ok


def test_trace_replay_takes_pin_values_as_the_pin_commands_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PIN comes from the environment or a hidden prompt; without a terminal, one line, exit 2
    # (it used to fall back to getpass: "input may be echoed" warnings, then "aborted", exit 1).
    from card_emulator.cli import teach_util

    card_path = tmp_path / "me.card"
    with Card.create(card_path, seed=0) as card:
        pin = (card.created_pins or {})[PinName.USER_AUTH]
        trace = tmp_path / "right.jsonl"
        with Recorder(trace).attach(card):
            verify(card, PinName.USER_AUTH, pin)
    monkeypatch.setattr(teach_util, "stdin_is_tty", lambda: False)
    monkeypatch.delenv("MYNACARD_PIN_USER_AUTH", raising=False)

    def run(*argv: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as done:
            main(["trace", "replay", str(trace), "--card", str(card_path), *argv])
        captured = capsys.readouterr()
        return int(done.value.code or 0), captured.out + captured.err

    code, out = run()
    assert code == 2 and len(out.splitlines()) == 1 and "--pin user_auth" in out
    code, out = run("--pin", "user-auth")
    assert code == 2 and out == (
        "mynacard: value of user_auth: not given; set MYNACARD_PIN_USER_AUTH (stdin is not a "
        "terminal, so it cannot be asked for)\n"
    )
    monkeypatch.setenv("MYNACARD_PIN_USER_AUTH", pin)
    assert run("--pin", "user-auth") == (0, "replayed 3 exchanges: no divergence\n")
    assert pin not in capsys.readouterr().out
