"""A served card steered while a PC/SC client uses it, through the real pcscd + vpcd (issue 8).

The `mynacard` commands run as a user would run them (subprocesses) on the card file that a
`mynacard serve` process holds; the PC/SC client is pyscard, or one process per card.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from card_emulator import Card, PinName
from card_emulator.transport.vpcd import ClientState, VpcdClient, port_for_reader, reader_name
from tests.pcsc.conftest import (
    READER_0,
    READER_1,
    REPO,
    ServerFactory,
    connect,
    start_stack,
    transmit,
    wait_card,
)

pytestmark = [pytest.mark.pcsc, pytest.mark.usefixtures("private_runtime_dir")]

SELECT_JPKI_AP = "00A4040C0AD392F000260100000001"
SELECT_USER_AUTH_PIN = "00A4020C020018"
SELECT_USER_AUTH_CERT = "00A4020C02000A"
OK = 0x9000
CARDS = 8


def verify(value: str) -> str:
    return "00200080" + f"{len(value):02X}" + value.encode().hex()


def wrong_of(right: str) -> str:
    return f"{(int(right) + 1) % 10_000:04d}"


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[PinName, str], bytes]]:
    """CARDS template cards of distinct seeds: path, initial PINs, user-auth certificate."""
    folder = tmp_path_factory.mktemp("served-cards")
    made = []
    for index in range(CARDS):
        path = folder / f"card{index}.card"
        with Card.create(path, seed=800 + index) as card:
            assert card.created_pins is not None
            der = card.issuer.certificates()["user_auth"].public_bytes(Encoding.DER)
            made.append((path, dict(card.created_pins), der))
    return made


def fresh(template: Path, tmp_path: Path, name: str = "served.card") -> Path:
    path = tmp_path / name
    shutil.copyfile(template, path)
    return path


def mynacard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_lock_over_pcsc_then_status_and_reset_on_the_served_file(
    serve: ServerFactory, cards: list[tuple[Path, dict[PinName, str], bytes]], tmp_path: Path
) -> None:
    template, pins, _ = cards[0]
    path = fresh(template, tmp_path)
    right = pins[PinName.USER_AUTH]
    server = serve(str(path), "--reader", "0")
    server.start()
    connection = connect(READER_0)
    try:
        assert transmit(connection, SELECT_JPKI_AP)[1] == OK
        assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
        answers = [transmit(connection, verify(wrong_of(right)))[1] for _ in range(3)]
        assert answers == [0x63C2, 0x63C1, 0x63C0]
        assert transmit(connection, verify(right))[1] == 0x6984  # locked: the right value too

        status = mynacard("pin", "status", str(path), "--json")
        assert status.returncode == 0, status.stderr
        user_auth = next(p for p in json.loads(status.stdout)["pins"] if p["pin"] == "user_auth")
        assert user_auth["locked"] is True and user_auth["tries_left"] == 0

        reset = mynacard(
            "pin", "reset", str(path), "--pin", "user-auth", env={"MYNACARD_NEW_PIN": "2468"}
        )
        assert reset.returncode == 0, reset.stderr
        assert "2468" not in reset.stdout + reset.stderr  # never printed

        # The client's very next APDU sees the full count, on the same connection and selection.
        assert transmit(connection, "00200080")[1] == 0x63C3
        assert transmit(connection, verify("2468"))[1] == OK
    finally:
        connection.disconnect()
    assert server.stop() == 0
    with Card.open(path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 3


def test_ctl_remove_and_insert_are_seen_by_a_pcsc_client(
    serve: ServerFactory, cards: list[tuple[Path, dict[PinName, str], bytes]], tmp_path: Path
) -> None:
    from smartcard.Exceptions import CardConnectionException

    template, _, der = cards[1]
    path = fresh(template, tmp_path)
    server = serve(str(path), "--reader", "1")
    server.start()
    connection = connect(READER_1)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK

    removed = mynacard("ctl", str(path), "remove")
    assert removed.returncode == 0, removed.stderr
    wait_card(READER_1, present=False)
    with pytest.raises(CardConnectionException):
        transmit(connection, SELECT_JPKI_AP)  # the client learns the card is gone
    with contextlib.suppress(CardConnectionException):
        connection.disconnect()
    status = json.loads(mynacard("ctl", str(path), "status", "--json").stdout)
    assert status["inserted"] is False and status["state"] == "removed"

    inserted = mynacard("ctl", str(path), "insert")
    assert inserted.returncode == 0, inserted.stderr
    wait_card(READER_1, present=True)
    connection = connect(READER_1)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_CERT)[1] == OK
    assert transmit(connection, "00B0000004")[0] == der[:4]
    connection.disconnect()
    status = json.loads(mynacard("ctl", str(path), "status", "--json").stdout)
    assert status["inserted"] is True and status["state"] == "ready"
    assert status["reader"]["name"] == READER_1
    assert server.stop() == 0


def test_swap_power_cycle_snapshot_restore(
    serve: ServerFactory, cards: list[tuple[Path, dict[PinName, str], bytes]], tmp_path: Path
) -> None:
    from smartcard.Exceptions import CardConnectionException

    first = fresh(cards[2][0], tmp_path, "first.card")
    second = fresh(cards[3][0], tmp_path, "second.card")
    right = cards[3][1][PinName.USER_AUTH]
    server = serve(str(first), "--reader", "0")
    server.start()

    swapped = mynacard("ctl", str(first), "swap", str(second))
    assert swapped.returncode == 0, swapped.stderr
    wait_card(READER_0, present=True)
    connection = connect(READER_0)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_CERT)[1] == OK
    assert transmit(connection, "00B0000010")[0] == cards[3][2][:16]  # the other card now
    # The first file is free again; the second is reached through the server.
    assert mynacard("info", str(first)).returncode == 0
    assert mynacard("ctl", str(first), "status").returncode == 3

    assert mynacard("ctl", str(second), "snapshot").returncode == 0
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    assert transmit(connection, verify(wrong_of(right)))[1] == 0x63C2
    restored = mynacard("ctl", str(second), "restore", "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["pins"]["user_auth"]["remaining"] == 3
    # Restore resets the card in the reader: select again, then the count is full.
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    assert transmit(connection, "00200080")[1] == 0x63C3

    cycled = mynacard("ctl", str(second), "power-cycle")
    assert cycled.returncode == 0, cycled.stderr
    with pytest.raises(CardConnectionException):
        transmit(connection, SELECT_JPKI_AP)  # removed and inserted: a new connection is needed
    with contextlib.suppress(CardConnectionException):
        connection.disconnect()
    connection = connect(READER_0)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    connection.disconnect()
    assert server.stop() == 0


def test_a_reader_already_served_fails_fast(
    serve: ServerFactory, cards: list[tuple[Path, dict[PinName, str], bytes]], tmp_path: Path
) -> None:
    first = fresh(cards[4][0], tmp_path, "first.card")
    second = fresh(cards[5][0], tmp_path, "second.card")
    server = serve(str(first), "--reader", "1")
    server.start()
    again = mynacard("serve", str(second), "--reader", "1")
    assert again.returncode == 3
    assert again.stderr == (
        f"mynacard serve: {READER_1} is already served by process {server.pid} "
        f"(card {first} in {READER_1})\n"
    )
    assert server.stop() == 0


class NineThousand:
    """Another program's card (not a mynacard serve): answers 9000 to everything."""

    atr = bytes.fromhex("3B8080010101")

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def reset(self) -> None: ...

    def transmit(self, apdu: bytes) -> bytes:
        return b"\x90\x00"


def test_a_reader_taken_by_another_program_fails_fast(
    pcsc_stack: None, cards: list[tuple[Path, dict[PinName, str], bytes]], tmp_path: Path
) -> None:
    other = VpcdClient(NineThousand(), port=port_for_reader(1))
    thread = threading.Thread(target=other.run, daemon=True)
    thread.start()
    try:
        assert other.wait_for(ClientState.READY, 15)
        started = time.monotonic()
        done = mynacard("serve", str(fresh(cards[4][0], tmp_path)), "--reader", "1")
        assert done.returncode == 3, done.stderr
        assert time.monotonic() - started < 30  # fails, does not wait for ever (no timing claim)
        last = done.stderr.strip().splitlines()[-2]
        assert last.startswith(f"mynacard serve: {READER_1} is already in use: vpcd at")
        assert done.stdout == ""
    finally:
        other.stop()
        thread.join(10)
        other.close()


def test_eight_cards_at_once_each_client_sees_its_own(
    serve: ServerFactory, cards: list[tuple[Path, dict[PinName, str], bytes]], tmp_path: Path
) -> None:
    start_stack(CARDS)
    paths = [fresh(template, tmp_path, f"c{k}.card") for k, (template, _, _) in enumerate(cards)]
    servers = [serve(str(path), "--reader", str(k)) for k, path in enumerate(paths)]
    for k, server in enumerate(servers):
        assert server.start().endswith(f"({reader_name(k)})")
    clients = []
    for k, (_, pins, _) in enumerate(cards):
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "WRONG_PIN": wrong_of(pins[PinName.USER_AUTH]),
        }
        clients.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).with_name("served_client.py")),
                    reader_name(k),
                    str(k % 3),
                    "200",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    results = []
    for client in clients:
        out, err = client.communicate(timeout=300)
        assert client.returncode == 0, err
        results.append(json.loads(out))
    for k, result in enumerate(results):
        assert result["certificate_sha256"] == hashlib.sha256(cards[k][2]).hexdigest(), k
        assert result["tries_left"] == 3 - k % 3, k
        assert result["apdus"] >= 200
        status = json.loads(mynacard("ctl", str(paths[k]), "status", "--json").stdout)
        assert status["pins"]["user_auth"]["remaining"] == 3 - k % 3
        assert status["reader"]["name"] == reader_name(k)
    for server in servers:
        assert server.stop() == 0


def _listening(port: int) -> set[str]:
    """Addresses (hex, as /proc writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":
                    found.add(address)
    return found


def _non_loopback_ipv4() -> list[str]:
    import fcntl
    import socket
    import struct

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                raw = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue  # no IPv4 address on this interface
            address = socket.inet_ntoa(raw[20:24])
            if not address.startswith("127."):
                found.append(address)
    return found


def test_vpcd_is_reachable_on_loopback_only(pcsc_stack: None) -> None:
    import socket

    start_stack(CARDS)
    for reader in range(CARDS):
        port = port_for_reader(reader)
        assert _listening(port) == {"0100007F"}, (reader, _listening(port))  # 127.0.0.1 only
    addresses = _non_loopback_ipv4()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to try (the listener check ran)")
    port = port_for_reader(CARDS - 1)  # a reader no test is using now
    for address in addresses:
        with socket.socket() as intruder, pytest.raises(ConnectionRefusedError):
            intruder.settimeout(5)
            intruder.connect((address, port))
