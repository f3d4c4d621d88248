"""The vpcd wire protocol (pcsc-vpcd.md §2) and VpcdClient against a fake vpcd on loopback."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from card_emulator.transport.vpcd import (
    MAX_PAYLOAD,
    Apdu,
    ClientState,
    GetAtr,
    PowerOff,
    PowerOn,
    Reset,
    Unknown,
    VpcdClient,
    VpcdEvent,
    VpcdParser,
    frame,
    port_for_reader,
)

ATR = bytes.fromhex("3BE000FF8131FE4514")
SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
OK = bytes.fromhex("9000")
TIMEOUT = 10.0

# --- the parser and framing -------------------------------------------------------------------


def test_frame_is_length_then_payload() -> None:
    assert frame(b"\x04") == bytes.fromhex("000104")
    assert frame(SELECT_JPKI) == bytes([0x00, len(SELECT_JPKI)]) + SELECT_JPKI
    assert frame(b"") == b"\x00\x00"
    assert frame(bytes(MAX_PAYLOAD))[:2] == b"\xff\xff"


def test_frame_refuses_more_than_65535_bytes() -> None:
    with pytest.raises(ValueError, match="65536"):
        frame(bytes(MAX_PAYLOAD + 1))


def test_control_codes_and_apdus() -> None:
    stream = b"".join(frame(p) for p in (b"\x00", b"\x01", b"\x02", b"\x04", OK, SELECT_JPKI))
    assert VpcdParser().feed(stream) == [
        PowerOff(),
        PowerOn(),
        Reset(),
        GetAtr(),
        Apdu(OK),
        Apdu(SELECT_JPKI),
    ]


def test_undefined_payloads_become_unknown_events() -> None:
    # An unknown one-byte code and an empty payload are reported, never taken for an APDU.
    assert VpcdParser().feed(frame(b"\x03") + frame(b"") + frame(b"\xff")) == [
        Unknown(b"\x03"),
        Unknown(b""),
        Unknown(b"\xff"),
    ]


def test_partial_message_waits_for_the_rest() -> None:
    parser = VpcdParser()
    data = frame(SELECT_JPKI)
    assert parser.feed(data[:1]) == []
    assert parser.feed(data[1:5]) == []
    assert parser.pending == 5
    assert parser.feed(data[5:]) == [Apdu(SELECT_JPKI)]
    assert parser.pending == 0


def test_extended_length_payload() -> None:
    big = bytes.fromhex("00B00000000000") + bytes(65_000)
    assert VpcdParser().feed(frame(big)) == [Apdu(big)]


def _expected(payload: bytes) -> VpcdEvent:
    controls: dict[bytes, VpcdEvent] = {
        b"\x00": PowerOff(),
        b"\x01": PowerOn(),
        b"\x02": Reset(),
        b"\x04": GetAtr(),
    }
    if len(payload) > 1:
        return Apdu(payload)
    return controls.get(payload, Unknown(payload))


@given(
    payloads=st.lists(st.binary(max_size=300), max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=20),
)
def test_any_split_of_the_stream_gives_the_same_events(
    payloads: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(frame(p) for p in payloads)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    parser = VpcdParser()
    events: list[VpcdEvent] = []
    for start, end in itertools.pairwise(points):
        events += parser.feed(stream[start:end])
    assert events == [_expected(p) for p in payloads]
    assert parser.pending == 0


def test_reader_ports() -> None:
    assert port_for_reader(0) == 35963
    assert port_for_reader(1) == 35964
    with pytest.raises(ValueError):
        port_for_reader(-1)


# --- a stand-in card and a fake vpcd ----------------------------------------------------------


class StandInCard:
    """A card with one piece of volatile state: whether the JPKI AP is selected."""

    atr = ATR

    def __init__(self) -> None:
        self.selected = False
        self.power_events: list[str] = []
        self.commands: list[bytes] = []

    def power_on(self) -> None:
        self.power_events.append("on")
        self.selected = False

    def power_off(self) -> None:
        self.power_events.append("off")
        self.selected = False

    def reset(self) -> None:
        self.power_events.append("reset")
        self.selected = False

    def transmit(self, apdu: bytes) -> bytes:
        self.commands.append(apdu)
        if apdu == SELECT_JPKI:
            self.selected = True
            return OK
        if apdu[:2] == b"\x00\xb0":  # READ BINARY: needs the selection
            return bytes(range(16)) + OK if self.selected else bytes.fromhex("6986")
        if apdu[:2] == b"\x00\xee":  # a big response, as an extended-length READ
            return bytes(65_000) + OK
        if apdu[:2] == b"\x00\xfe":
            raise RuntimeError("a bug in the card")
        return bytes.fromhex("6D00")


class FakeVpcd:
    """vpcd's side: listens on an ephemeral loopback port and sends what pcscd would."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(TIMEOUT)

    def _read_exact(self, n: int) -> bytes:
        assert self.conn is not None
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def send(self, payload: bytes, *, split: bool = True) -> None:
        assert self.conn is not None
        message = frame(payload)
        if split:  # Debian's vpcd sends the length and the body in two send() calls (§2)
            self.conn.sendall(message[:2])
            self.conn.sendall(message[2:])
        else:
            self.conn.sendall(message)

    def receive(self) -> bytes:
        length = int.from_bytes(self._read_exact(2), "big")
        return self._read_exact(length)

    def exchange(self, payload: bytes) -> bytes:
        self.send(payload)
        return self.receive()

    def drop(self) -> None:
        assert self.conn is not None
        self.conn.close()
        self.conn = None

    def eof_seen(self) -> bool:
        assert self.conn is not None
        return self.conn.recv(1) == b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@contextmanager
def running(client: VpcdClient) -> Iterator[VpcdClient]:
    thread = threading.Thread(target=client.run, daemon=True)
    thread.start()
    try:
        yield client
    finally:
        client.stop()
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "VpcdClient.run() did not return after stop()"
        client.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    server = FakeVpcd()
    yield server
    server.close()


# --- the client -------------------------------------------------------------------------------


def test_answers_get_atr_at_any_time(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)) as client:
        vpcd.accept()
        assert vpcd.exchange(b"\x04") == ATR
        assert vpcd.exchange(SELECT_JPKI) == OK
        assert vpcd.exchange(b"\x04") == ATR
        assert client.state is ClientState.READY


def test_ready_once_pcscd_has_powered_the_card_up(vpcd: FakeVpcd) -> None:
    # pcscd on insertion: presence poll, power on, ATR (§2); then SCardConnect works.
    states: list[ClientState] = []
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port, on_state=lambda s, _d: states.append(s))) as c:
        vpcd.accept()
        assert vpcd.exchange(b"\x04") == ATR
        assert c.state is ClientState.CONNECTED  # a presence poll alone is not enough
        vpcd.send(b"\x01")
        assert vpcd.exchange(b"\x04") == ATR
        assert c.wait_for(ClientState.READY, TIMEOUT)
        vpcd.send(b"\x00")
        vpcd.send(b"\x01")
        assert vpcd.exchange(b"\x04") == ATR
    assert states.count(ClientState.READY) == 1  # once per insertion


def test_ready_after_three_polls_without_power_on(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)) as client:
        vpcd.accept()
        for _ in range(3):
            assert vpcd.exchange(b"\x04") == ATR
        assert client.wait_for(ClientState.READY, TIMEOUT)


def test_apdu_exchange_and_power_events_reset_volatile_state(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    read = bytes.fromhex("00B0000010")
    with running(VpcdClient(card, port=vpcd.port)):
        vpcd.accept()
        vpcd.send(b"\x01")  # SCardConnect: power on, then ATR
        assert vpcd.exchange(b"\x04") == ATR
        assert vpcd.exchange(SELECT_JPKI) == OK
        assert vpcd.exchange(read) == bytes(range(16)) + OK
        vpcd.send(b"\x02")  # SCardReconnect(RESET)
        assert vpcd.exchange(b"\x04") == ATR
        assert vpcd.exchange(read) == bytes.fromhex("6986")  # the selection is gone
        assert vpcd.exchange(SELECT_JPKI) == OK
        vpcd.send(b"\x00")  # disconnect: power off
        vpcd.send(b"\x01")
        assert vpcd.exchange(read) == bytes.fromhex("6986")
    assert card.power_events[:4] == ["on", "reset", "off", "on"]


def test_whole_frames_and_extended_responses(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)):
        vpcd.accept()
        # Two messages in one segment, then a big response.
        assert vpcd.conn is not None
        vpcd.conn.sendall(frame(b"\x04") + frame(SELECT_JPKI))
        assert vpcd.receive() == ATR
        assert vpcd.receive() == OK
        assert vpcd.exchange(bytes.fromhex("00EE000000")) == bytes(65_000) + OK


def test_bad_frames_and_card_bugs_do_not_kill_the_client(
    vpcd: FakeVpcd, caplog: pytest.LogCaptureFixture
) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)):
        vpcd.accept()
        vpcd.send(b"\x03")  # undefined control code: ignored, not answered
        vpcd.send(b"")  # empty payload: ignored
        assert vpcd.exchange(b"\x04") == ATR
        with caplog.at_level(logging.ERROR, logger="card_emulator.transport.vpcd"):
            assert vpcd.exchange(bytes.fromhex("00FE0000")) == bytes.fromhex("6F00")
        assert "a bug in the card" in caplog.text
        assert vpcd.exchange(SELECT_JPKI) == OK


def test_reconnects_after_vpcd_closes(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    states: list[ClientState] = []
    with running(VpcdClient(card, port=vpcd.port, on_state=lambda s, _d: states.append(s))) as c:
        vpcd.accept()
        assert vpcd.exchange(SELECT_JPKI) == OK
        vpcd.drop()  # pcscd stopped
        vpcd.accept()  # ... and the card came back by itself
        vpcd.send(b"\x01")
        assert vpcd.exchange(b"\x04") == ATR
        assert c.wait_for(ClientState.READY, TIMEOUT)
        # The old session's selection did not survive the removal.
        assert vpcd.exchange(bytes.fromhex("00B0000010")) == bytes.fromhex("6986")
    assert ClientState.DISCONNECTED in states
    assert states.count(ClientState.READY) == 2


def test_keeps_retrying_while_vpcd_is_down() -> None:
    # A port with nobody listening: connection refused until a listener appears there.
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    states: list[ClientState] = []
    card = StandInCard()
    with running(VpcdClient(card, port=port, on_state=lambda s, _d: states.append(s))) as client:
        assert client.wait_for(ClientState.WAITING, TIMEOUT)
        server = socket.create_server(("127.0.0.1", port))
        server.settimeout(TIMEOUT)
        try:
            conn, _ = server.accept()
            with conn:
                conn.sendall(frame(b"\x04"))
                assert conn.recv(64) == frame(ATR)
        finally:
            server.close()
    assert states.count(ClientState.WAITING) == 1  # reported once, however many retries


def test_remove_closes_the_socket_and_insert_reconnects(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)) as client:
        vpcd.accept()
        assert vpcd.exchange(SELECT_JPKI) == OK
        client.remove()
        assert vpcd.eof_seen()  # socket closed = card removed
        assert client.wait_for(ClientState.REMOVED, TIMEOUT)
        assert card.power_events[-1] == "off"
        vpcd.drop()
        client.insert()
        vpcd.accept()
        assert vpcd.exchange(b"\x04") == ATR


def test_stop_ends_run_while_waiting_and_while_connected(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)) as client:
        vpcd.accept()
        assert vpcd.exchange(b"\x04") == ATR
    assert client.state is ClientState.STOPPED
    assert vpcd.eof_seen()
    # Stopped before it could ever connect.
    client2 = VpcdClient(card, port=vpcd.port)
    client2.stop()
    client2.run()
    client2.close()
    assert client2.state is ClientState.STOPPED


@pytest.mark.parametrize("where", ["between messages", "inside a message"])
def test_stop_ends_the_blocking_read_once_the_card_is_in(vpcd: FakeVpcd, where: str) -> None:
    # Once pcscd has taken the card in, the loop waits in a plain blocking recv (no poll per
    # message, issue 10): stop() must still end run() (running() fails if it does not return).
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)) as client:
        vpcd.accept()
        assert vpcd.exchange(SELECT_JPKI) == OK
        assert client.wait_for(ClientState.READY, TIMEOUT)
        if where == "inside a message":
            assert vpcd.conn is not None
            vpcd.conn.sendall(frame(SELECT_JPKI)[:2])  # the length, and never the body
    assert client.state is ClientState.STOPPED
    assert vpcd.eof_seen()
    assert card.commands == [SELECT_JPKI]


def test_remove_from_another_thread_while_the_card_is_in(vpcd: FakeVpcd) -> None:
    card = StandInCard()
    with running(VpcdClient(card, port=vpcd.port)) as client:
        vpcd.accept()
        vpcd.send(b"\x01")
        assert vpcd.exchange(b"\x04") == ATR
        assert client.wait_for(ClientState.READY, TIMEOUT)
        remover = threading.Thread(target=client.remove)
        remover.start()
        remover.join(TIMEOUT)
        assert vpcd.eof_seen()  # the blocked read ended and the socket closed: card removed
        assert client.wait_for(ClientState.REMOVED, TIMEOUT)
        vpcd.drop()
        client.insert()
        vpcd.accept()
        assert vpcd.exchange(SELECT_JPKI) == OK  # served again after the re-insertion


def test_pins_are_not_logged(vpcd: FakeVpcd, caplog: pytest.LogCaptureFixture) -> None:
    verify = bytes.fromhex("0020008004") + b"1234"
    card = StandInCard()
    with (
        caplog.at_level(logging.DEBUG, logger="card_emulator.transport.vpcd"),
        running(VpcdClient(card, port=vpcd.port)),
    ):
        vpcd.accept()
        vpcd.exchange(verify)
    assert "00200080" in caplog.text
    assert "31323334" not in caplog.text
    assert "1234" not in caplog.text


def test_every_address_of_the_host_is_tried_in_turn(
    vpcd: FakeVpcd, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `localhost` may resolve to ::1 first while vpcd listens on IPv4 only: the next one is tried.
    probe = socket.create_server(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    real_getaddrinfo = socket.getaddrinfo
    stream = (socket.SOCK_STREAM, socket.IPPROTO_TCP, "")

    def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "vpcd.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6, *stream, ("::1", dead_port, 0, 0)),  # refused or no IPv6 at all
            (socket.AF_INET, *stream, ("127.0.0.1", dead_port)),  # refused
            (socket.AF_INET, *stream, ("127.0.0.1", vpcd.port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    states: list[ClientState] = []
    card = StandInCard()
    client = VpcdClient(card, host="vpcd.test", on_state=lambda s, _d: states.append(s))
    with running(client):
        vpcd.accept()
        assert vpcd.exchange(b"\x04") == ATR
    assert ClientState.WAITING not in states  # connected on the first round


class RecordingSocket(socket.socket):
    """A socket that counts recv calls and the TCP_QUICKACK re-arms."""

    recvs = 0
    quickacks = 0

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        type(self).recvs += 1
        return super().recv(bufsize, flags)

    def setsockopt(self, *args: Any) -> None:
        if args[:3] == (socket.IPPROTO_TCP, getattr(socket, "TCP_QUICKACK", 12), 1):
            type(self).quickacks += 1
        super().setsockopt(*args)


class RecordingClient(VpcdClient):
    def _open_socket(self, host: str, port: int) -> socket.socket:
        sock = RecordingSocket(socket.AF_INET, socket.SOCK_STREAM)
        sock.connect((host, port))
        return sock


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_QUICKACK is Linux-only")
def test_quickack_is_rearmed_after_every_recv(vpcd: FakeVpcd) -> None:
    # The 48 ms trap (§2): QUICKACK is not sticky, so it must follow every recv().
    card = StandInCard()
    with running(RecordingClient(card, port=vpcd.port)):
        vpcd.accept()
        for _ in range(20):
            assert vpcd.exchange(SELECT_JPKI) == OK
    assert RecordingSocket.recvs >= 20
    assert RecordingSocket.quickacks == RecordingSocket.recvs


# --- `mynacard serve` against the fake vpcd (no pcscd needed) ---------------------------------


def test_serve_command_signals_and_ready_line(vpcd: FakeVpcd, tmp_path: Path) -> None:
    from card_emulator import Card

    path = tmp_path / "serve.card"
    Card.create(path, seed=3).close()
    ready_file = tmp_path / "ready"
    repo = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "card_emulator.cli", "serve", str(path)]
    command += ["--port", str(vpcd.port), "--ready-file", str(ready_file)]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=repo
    )
    try:
        vpcd.accept()
        vpcd.send(b"\x01")  # pcscd's insertion: power on, ATR
        assert vpcd.exchange(b"\x04") == ATR
        assert server.stdout is not None
        line = server.stdout.readline().rstrip("\n")
        assert line == (
            f"ready: serving {path} on 127.0.0.1:{vpcd.port} (the vpcd reader on port {vpcd.port})"
        )
        assert ready_file.read_text().strip() == line
        assert vpcd.exchange(SELECT_JPKI) == OK  # the real card answers

        server.send_signal(signal.SIGUSR1)  # removal: the socket closes
        assert vpcd.eof_seen()
        vpcd.drop()
        server.send_signal(signal.SIGUSR2)  # insertion: it connects again
        vpcd.accept()
        vpcd.send(b"\x01")
        assert vpcd.exchange(b"\x04") == ATR

        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err
    assert out == ""  # the ready line came once; the re-insertion is told on stderr
    assert "card removed" in err
    assert not ready_file.exists()


@pytest.mark.parametrize("where", ["missing-dir/ready", "a-file/ready", "a-dir"])
def test_serve_refuses_an_unwritable_ready_file_before_connecting(
    vpcd: FakeVpcd, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    from card_emulator import Card
    from card_emulator.cli import main

    path = tmp_path / "serve.card"
    Card.create(path, seed=3).close()
    (tmp_path / "a-file").write_text("not a directory")
    (tmp_path / "a-dir").mkdir()
    ready_file = tmp_path / where
    with pytest.raises(SystemExit) as done:
        main(["serve", str(path), "--port", str(vpcd.port), "--ready-file", str(ready_file)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("mynacard: --ready-file ")
    assert err.count("\n") == 1  # one line
    vpcd.listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        vpcd.listener.accept()  # the card never went to the reader


def test_default_card_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from card_emulator.paths import default_card_path

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_card_path() == tmp_path / "mynumber-card-emulator" / "default.card"
    assert not (tmp_path / "mynumber-card-emulator").exists()  # made by the caller, when needed
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # invalid per XDG: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "mynumber-card-emulator" / "default.card"
    assert default_card_path() == expected
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_card_path() == expected
