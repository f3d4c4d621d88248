"""`mynacard serve` through the real pcscd + vpcd, driven with pyscard exactly as a client would.

The pcscd restart test is last in this module: it takes the stack down and brings it back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from card_emulator import Card, PinName
from tests.pcsc.conftest import (
    READER_0,
    READER_1,
    ServerFactory,
    connect,
    run_stack,
    start_stack,
    transmit,
    wait_card,
)

pytestmark = pytest.mark.pcsc

SELECT_JPKI_AP = "00A4040C0AD392F000260100000001"  # card-interface.md §4.3
SELECT_USER_AUTH_CERT = "00A4020C02000A"
SELECT_USER_AUTH_PIN = "00A4020C020018"
OK = 0x9000


@pytest.fixture(scope="session")
def card_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bytes]]:
    """Two test cards: path and DER user-auth certificate of each."""
    folder = tmp_path_factory.mktemp("cards")
    cards: dict[str, tuple[Path, bytes]] = {}
    for name, seed in (("a", 101), ("b", 202)):
        path = folder / f"{name}.card"
        with Card.create(path, seed=seed) as card:
            der = card.issuer.certificates()["user_auth"].public_bytes(Encoding.DER)
        cards[name] = (path, der)
    return cards


def read_user_auth_certificate(reader: str) -> bytes:
    """What OpenSC's jpki driver does (pcsc-vpcd.md §3): 4-byte header, then chunked reads."""
    connection = connect(reader)
    try:
        assert transmit(connection, SELECT_JPKI_AP) == (b"", OK)
        assert transmit(connection, SELECT_USER_AUTH_CERT) == (b"", OK)
        header, sw = transmit(connection, "00B0000004")
        assert sw == OK
        assert header[:2] == b"\x30\x82"
        size = int.from_bytes(header[2:4], "big") + 4
        der = b""
        while len(der) < size:
            le = min(size - len(der), 0xFF)
            offset = len(der).to_bytes(2, "big")
            chunk, sw = transmit(connection, b"\x00\xb0" + offset + bytes([le]))
            assert sw == OK
            assert chunk
            der += chunk
        return der
    finally:
        connection.disconnect()


def test_read_certificate_through_pcscd(
    serve: ServerFactory, card_files: dict[str, tuple[Path, bytes]], tmp_path: Path
) -> None:
    path, expected = card_files["a"]
    ready_file = tmp_path / "ready"
    server = serve(str(path), "--reader", "0", "--ready-file", str(ready_file))
    line = server.start()
    assert line == f"ready: serving {path} on 127.0.0.1:35963 ({READER_0})"
    assert ready_file.read_text().strip() == line
    assert read_user_auth_certificate(READER_0) == expected
    assert server.stop() == 0
    assert server.stdout_lines == [line]  # exactly one readiness line
    assert not ready_file.exists()
    wait_card(READER_0, present=False)


def test_wrong_verify_is_durable_across_kill_9(serve: ServerFactory, tmp_path: Path) -> None:
    from smartcard.Exceptions import CardConnectionException

    path = tmp_path / "pin.card"
    with Card.create(path, seed=7) as card:
        assert card.created_pins is not None
        right = card.created_pins[PinName.USER_AUTH]
    wrong = f"{(int(right) + 1) % 10_000:04d}"

    server = serve(str(path))
    server.start()
    connection = connect(READER_0)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    assert transmit(connection, "0020008004" + wrong.encode().hex())[1] == 0x63C2
    server.kill()  # SIGKILL: no chance to flush anything; the counter was already stored
    wait_card(READER_0, present=False)
    # Our handle outlived its card; release it now, not during the next card's session.
    with contextlib.suppress(CardConnectionException):
        connection.disconnect()

    again = serve(str(path))
    again.start()
    connection = connect(READER_0)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    assert transmit(connection, "00200080")[1] == 0x63C2  # empty VERIFY: the count, no try spent
    connection.disconnect()
    assert again.stop() == 0
    with Card.open(path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 2


def test_sigusr1_removes_and_sigusr2_inserts(
    serve: ServerFactory, card_files: dict[str, tuple[Path, bytes]]
) -> None:
    path, expected = card_files["a"]
    server = serve(str(path), "--reader", "0")
    server.start()
    wait_card(READER_0, present=True)
    server.send(signal.SIGUSR1)
    wait_card(READER_0, present=False)
    server.send(signal.SIGUSR2)
    wait_card(READER_0, present=True)
    assert read_user_auth_certificate(READER_0) == expected
    assert server.stop() == 0
    assert "card removed" in server.stderr()


def test_two_cards_on_two_readers(
    serve: ServerFactory, card_files: dict[str, tuple[Path, bytes]]
) -> None:
    path_a, cert_a = card_files["a"]
    path_b, cert_b = card_files["b"]
    first = serve(str(path_a), "--reader", "0")
    second = serve(str(path_b), "--reader", "1")
    assert first.start().endswith(f"127.0.0.1:35963 ({READER_0})")
    assert second.start().endswith(f"127.0.0.1:35964 ({READER_1})")
    assert cert_a != cert_b
    assert read_user_auth_certificate(READER_0) == cert_a
    assert read_user_auth_certificate(READER_1) == cert_b
    assert first.stop() == 0
    assert second.stop() == 0


def test_default_card_is_created_once_with_its_test_pins(
    serve: ServerFactory, tmp_path: Path
) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    default = tmp_path / "data" / "mynumber-card-emulator" / "default.card"
    first = serve("--seed", "5", env=env)
    assert first.start() == f"ready: serving {default} on 127.0.0.1:35963 ({READER_0})"
    assert first.stop() == 0
    assert "TEST PIN" in first.stderr()
    with Card.open(default) as card:
        status = card.issuer.pin_status(PinName.USER_AUTH)
        assert status.remaining == status.max_tries
    second = serve(env=env)
    second.start()
    assert second.stop() == 0
    assert "TEST PIN" not in second.stderr()  # the PINs are known only at creation


def test_server_survives_a_pcscd_restart(
    serve: ServerFactory, card_files: dict[str, tuple[Path, bytes]]
) -> None:
    # Last in the module: stops the stack, then restores it even when an assertion fails.
    path, expected = card_files["b"]
    server = serve(str(path), "--reader", "0")
    server.start()
    wait_card(READER_0, present=True)
    try:
        stopped = run_stack("stop")
        assert stopped.returncode == 0, stopped.stderr
    finally:
        start_stack()
    wait_card(READER_0, present=True)
    # pcscd's log may hold PINs (PCSC_DEBUG=1 logs every APDU): private to its owner.
    log_dir = Path(os.environ.get("PCSC_LOG_DIR", "/tmp/mynacard-pcscd"))
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((log_dir / "pcscd.log").stat().st_mode) == 0o600
    assert read_user_auth_certificate(READER_0) == expected
    assert server.process is not None and server.process.poll() is None
    assert server.stop() == 0
    assert "reconnecting" in server.stderr()
