"""The served card's control channel without pcscd: a ServedCard listening on its Unix sockets, its
reader loop not started, driven through the real sockets by the commands and the Python client.

What needs pcscd (insert, remove, swap, the PC/SC client's view) is in tests/pcsc/test_served_card.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from card_emulator import Card, CardInUseError, IssuerError, PinName
from card_emulator.cli import main
from card_emulator.transport.control import (
    ControlClient,
    ControlError,
    NotServedError,
    RemoteCard,
    card_socket_path,
    connect_card,
    open_card,
    reader_socket_path,
    runtime_dir,
)
from card_emulator.transport.served import ServedCard

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_USER_AUTH_PIN = bytes.fromhex("00A4020C020018")
EMPTY_VERIFY = bytes.fromhex("00200080")
PORT = 35999  # a reader port nothing listens on: the reader loop is never started here
REPO = Path(__file__).resolve().parents[1]


def verify_apdu(value: str) -> bytes:
    return bytes.fromhex("00200080") + bytes([len(value)]) + value.encode()


def sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[PinName, str]]:
    path = tmp_path_factory.mktemp("template") / "template.card"
    with Card.create(path, seed=11) as card:
        assert card.created_pins is not None
        return path, dict(card.created_pins)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private XDG_RUNTIME_DIR, short enough for Unix socket paths."""
    folder = Path(tempfile.mkdtemp(prefix="mc-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def served(
    runtime: Path, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> Iterator[ServedCard]:
    path = tmp_path / "served.card"
    shutil.copyfile(template[0], path)
    server = ServedCard(Card.open(path), path, host="127.0.0.1", port=PORT, reader="test reader")
    server.listen()
    yield server
    server.close()


def reader_transmit(server: ServedCard, apdu: bytes) -> int:
    """What the vpcd loop does for the PC/SC client: the card's own session."""
    return sw(server.card.transmit(apdu))


def test_sockets_are_private_and_greet_with_the_protocol_version(
    served: ServedCard, runtime: Path
) -> None:
    folder = runtime_dir()
    assert folder == runtime / "mynumber-card-emulator"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (card_socket_path(served.path), reader_socket_path(PORT)):
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with connect_card(served.path) as client:
        assert client.hello["protocol"] == "mynacard-control"
        assert client.hello["version"] == 1
        assert client.hello["server"] == {
            "pid": os.getpid(),
            "card": str(served.path),
            "reader": {"name": "test reader", "host": "127.0.0.1", "port": PORT},
        }
        status = client.call("status")
    assert status["pins"]["user_auth"] == {"remaining": 3, "max_tries": 3, "locked": False}
    assert status["inserted"] is True


def test_open_card_reaches_the_server_and_counts_on_the_same_card(
    served: ServedCard, template: tuple[Path, dict[PinName, str]]
) -> None:
    right = template[1][PinName.USER_AUTH]
    wrong = f"{(int(right) + 1) % 10_000:04d}"
    card = open_card(served.path)
    assert isinstance(card, RemoteCard)
    with card:
        assert card.issuer.holder() == served.card.issuer.holder()
        assert set(card.issuer.certificates()) == set(served.card.issuer.certificates())
        seen = []
        card.add_observer(seen.append)
        assert sw(card.transmit(SELECT_JPKI)) == 0x9000
        assert sw(card.transmit(SELECT_USER_AUTH_PIN)) == 0x9000
        assert sw(card.transmit(verify_apdu(wrong))) == 0x63C2
        assert [e.action for e in seen] == ["select_app", "select_ef", "verify"]
        assert seen[-1].tries_left == 2 and seen[-1].pin is PinName.USER_AUTH
        assert seen[-1].command == verify_apdu(wrong)  # the client's own bytes, never echoed back
    # The wrong entry counted on the served card: the reader's session sees it.
    assert reader_transmit(served, SELECT_JPKI) == 0x9000
    assert reader_transmit(served, SELECT_USER_AUTH_PIN) == 0x9000
    assert reader_transmit(served, EMPTY_VERIFY) == 0x63C2


def test_the_channel_leaves_the_readers_session_alone(
    served: ServedCard, template: tuple[Path, dict[PinName, str]]
) -> None:
    right = template[1][PinName.USER_AUTH]
    assert reader_transmit(served, SELECT_JPKI) == 0x9000
    assert reader_transmit(served, SELECT_USER_AUTH_PIN) == 0x9000
    assert reader_transmit(served, verify_apdu(right)) == 0x9000
    # `mynacard pin status` selects every application through its own contact...
    assert main_exit(["pin", "status", str(served.path), "--json"]) == 0
    # ...and the reader still has the JPKI AP and the verified PIN: it can sign at once.
    assert reader_transmit(served, bytes.fromhex("00A4020C020017")) == 0x9000  # the auth key
    digest_info = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(32)
    signature = served.card.transmit(bytes([0x80, 0x2A, 0x00, 0x80, 51]) + digest_info + b"\0")
    assert sw(signature) == 0x9000 and len(signature) == 258


def test_a_reset_through_the_channel_is_seen_on_the_readers_next_apdu(
    served: ServedCard, template: tuple[Path, dict[PinName, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    right = template[1][PinName.USER_AUTH]
    wrong = f"{(int(right) + 1) % 10_000:04d}"
    assert reader_transmit(served, SELECT_JPKI) == 0x9000
    assert reader_transmit(served, SELECT_USER_AUTH_PIN) == 0x9000
    for expected in (0x63C2, 0x63C1, 0x63C0, 0x6984):
        assert reader_transmit(served, verify_apdu(wrong)) == expected
    monkeypatch.setenv("MYNACARD_NEW_PIN", "4321")
    assert main_exit(["pin", "reset", str(served.path), "--pin", "user-auth", "--json"]) == 0
    assert reader_transmit(served, EMPTY_VERIFY) == 0x63C3  # no new SELECT needed
    assert reader_transmit(served, verify_apdu("4321")) == 0x9000


def test_issuer_refusals_and_protocol_errors(served: ServedCard) -> None:
    card = open_card(served.path)
    with card, pytest.raises(IssuerError, match="4 digits"):
        card.issuer.reset_pin(PinName.USER_AUTH, "12ab")
    with connect_card(served.path) as client:
        for op, arguments, code in [
            ("launch", {}, "unknown_op"),
            ("pin_status", {"pin": "nope"}, "bad_request"),
            ("transmit", {"apdu": "zz"}, "bad_request"),
            ("restore", {}, "state"),
            ("swap", {"path": "/nonexistent/x.card"}, "card_file"),
        ]:
            with pytest.raises(ControlError) as refused:
                client.call(op, **arguments)
            assert refused.value.code == code, op
        assert {"signing", "user_auth"} <= set(client.call("pins")["pins"])
    # A line that is not JSON: an error with id null, and the connection goes on.
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(card_socket_path(served.path)))
        stream = raw.makefile("rb")
        json.loads(stream.readline())  # hello
        raw.sendall(b"not json\n")
        answer = json.loads(stream.readline())
        assert answer == {
            "id": None,
            "ok": False,
            "error": {"code": "bad_request", "message": "not a JSON line"},
        }
        raw.sendall(b'{"id": "x", "op": "pin_status", "pin": "signing"}\n')
        assert json.loads(stream.readline())["result"]["max_tries"] == 5
        stream.close()


def test_snapshot_and_restore_put_values_and_counters_back(
    served: ServedCard, template: tuple[Path, dict[PinName, str]]
) -> None:
    right = template[1][PinName.USER_AUTH]
    wrong = f"{(int(right) + 1) % 10_000:04d}"
    assert main_exit(["ctl", str(served.path), "snapshot"]) == 0
    assert reader_transmit(served, SELECT_JPKI) == 0x9000
    assert reader_transmit(served, SELECT_USER_AUTH_PIN) == 0x9000
    for _ in range(3):
        reader_transmit(served, verify_apdu(wrong))
    served.card.issuer.reset_pin(PinName.SIGNING, "NEWVALUE1")
    assert served.card.issuer.pin_status(PinName.USER_AUTH).locked
    assert main_exit(["ctl", str(served.path), "restore"]) == 0
    assert served.card.issuer.pin_status(PinName.USER_AUTH).remaining == 3
    assert served.card._session.app is None  # reset: nothing selected
    assert reader_transmit(served, SELECT_JPKI) == 0x9000
    assert reader_transmit(served, SELECT_USER_AUTH_PIN) == 0x9000
    assert reader_transmit(served, verify_apdu(right)) == 0x9000  # the value is back too
    signing = template[1][PinName.SIGNING]
    assert reader_transmit(served, bytes.fromhex("00A4020C02001B")) == 0x9000
    assert reader_transmit(served, verify_apdu(signing)) == 0x9000
    path = served.path
    served.close()
    with Card.open(path) as card:  # durable in the file
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 3


def test_ctl_status_json_and_a_card_not_served(
    served: ServedCard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_exit(["ctl", str(served.path), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["card"] == str(served.path)
    assert status["reader"]["port"] == PORT
    assert set(status["pins"]) >= {"signing", "user_auth"}
    # By control socket path too.
    assert main_exit(["ctl", str(card_socket_path(served.path)), "status"]) == 0
    capsys.readouterr()
    other = tmp_path / "other.card"
    assert main_exit(["ctl", str(other), "status"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"mynacard ctl: {other} is not served")
    assert err.count("\n") == 1


def test_a_card_held_by_another_kind_of_process_is_still_in_use(
    runtime: Path, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    path = tmp_path / "held.card"
    shutil.copyfile(template[0], path)
    with Card.open(path), pytest.raises(CardInUseError, match="not a `mynacard serve`"):
        open_card(path)
    with open_card(path) as card:  # free again: opened here
        assert not isinstance(card, RemoteCard)


def test_stale_and_foreign_sockets(
    runtime: Path, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    path = tmp_path / "stale.card"
    shutil.copyfile(template[0], path)
    socket_path = card_socket_path(path)
    socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path))  # bound, never listening: what a killed server leaves
    stale.close()
    with pytest.raises(NotServedError):
        connect_card(path)
    first = ServedCard(Card.open(path), path, host="127.0.0.1", port=PORT, reader="r")
    first.listen()  # replaces the stale socket
    try:
        second_path = tmp_path / "second.card"
        shutil.copyfile(template[0], second_path)
        second = ServedCard(
            Card.open(second_path), second_path, host="127.0.0.1", port=PORT, reader="r"
        )
        with pytest.raises(ControlError, match=f"already served by process {os.getpid()}") as busy:
            second.listen()  # the same reader: refused
        assert busy.value.code == "busy"
        second.close()
    finally:
        first.close()
    assert not socket_path.exists()  # removed on close


def test_a_server_of_another_protocol_version_is_refused(runtime: Path) -> None:
    folder = runtime / "mynumber-card-emulator"
    folder.mkdir(mode=0o700)
    path = folder / "future.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)

    def greet() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b'{"protocol": "mynacard-control", "version": 99}\n')

    thread = threading.Thread(target=greet)
    thread.start()
    try:
        with pytest.raises(ControlError, match="version 99") as refused:
            ControlClient(path)
        assert refused.value.code == "unsupported_version"
    finally:
        thread.join()
        listener.close()


def test_a_runtime_dir_open_to_others_is_refused(runtime: Path) -> None:
    from card_emulator.transport.control import ensure_runtime_dir

    folder = runtime / "mynumber-card-emulator"
    folder.mkdir()
    folder.chmod(0o755)  # someone else could put a socket of theirs there
    with pytest.raises(ControlError, match="open to other users"):
        ensure_runtime_dir()


# -- `mynacard serve` fails fast (no pcscd needed) -------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there now


def run_serve(*args: str, runtime: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", "serve", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_serve_an_unresolvable_host_is_one_line_and_exit_4(
    runtime: Path, template: tuple[Path, dict[PinName, str]]
) -> None:
    done = run_serve(str(template[0]), "--host", "no-such-host.invalid", runtime=runtime)
    assert done.returncode == 4
    assert done.stdout == ""
    assert done.stderr.startswith("mynacard serve: cannot resolve --host 'no-such-host.invalid'")
    assert done.stderr.count("\n") == 1


def test_serve_timeout_says_what_it_waited_for(
    runtime: Path, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    path = tmp_path / "t.card"
    shutil.copyfile(template[0], path)
    done = run_serve(str(path), "--port", str(free_port()), "--timeout", "0.5", runtime=runtime)
    assert done.returncode == 5
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert "nothing listens at 127.0.0.1:" in lines[0]  # progress before the verdict
    assert "not ready after 0.5 s (waiting); stopping" in done.stderr
    with Card.open(path):  # released
        pass


def main_exit(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_trace_commands_work_on_a_served_card_file(
    served: ServedCard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from card_emulator.recorder import Recorder

    trace_file = tmp_path / "t.jsonl"
    card = open_card(served.path)  # reached through the serve process
    with card, Recorder(trace_file) as recorder:
        recorder.attach(card)
        for apdu in (SELECT_JPKI, SELECT_USER_AUTH_PIN, EMPTY_VERIFY):
            card.transmit(apdu)
    assert main_exit(["trace", "show", str(trace_file)]) == 0
    assert "63C3" in capsys.readouterr().out
    # A replay against the served file works on a copy of it, while the server holds it.
    assert main_exit(["trace", "replay", str(trace_file), "--card", str(served.path)]) == 0
    assert "no divergence" in capsys.readouterr().out
