"""OpenSC drives the emulated card through pcscd exactly as a user's tools would (opensc-jpki.md).

No forced driver; OpenSC's file cache is off (a temporary opensc.conf and HOME). Wrong PIN entries
are sent with pyscard through pcscd, like any other PC/SC client.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card_emulator import Card
from card_emulator.rules import PinName
from card_emulator.transport.pyscard_reader import emulated_reader
from tests.pcsc.conftest import READER_0, ServerFactory, connect, unavailable, wait_card

pytestmark = [pytest.mark.pcsc, pytest.mark.opensc]

PKCS11_MODULES = (  # where Debian's opensc-pkcs11 puts it (dpkg -L opensc-pkcs11)
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/opensc-pkcs11.so",
)
AUTH_TOKEN = "JPKI (User Authentication PIN)"
SIGN_TOKEN = "JPKI (Digital Signature PIN)"
SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
AUTH_PIN_EF, SIGN_PIN_EF = 0x0018, 0x001B
AUTH_KEY_EF, SIGN_KEY_EF = 0x0017, 0x001A
CERT_EFS = (0x000A, 0x0001, 0x000B, 0x0002)  # the order OpenSC reads them in
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
TOOL_TIMEOUT = 60
SEED = 11

Transmit = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class ServedCard:
    path: Path
    reader: str  # PC/SC name, e.g. "Virtual PCD 00 00"
    index: int  # OpenSC's --reader number
    pins: dict[PinName, str]
    certificates: dict[str, x509.Certificate]


# --- OpenSC's environment ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pkcs11_module() -> str:
    for candidate in PKCS11_MODULES:
        if Path(candidate).exists():
            return candidate
    unavailable("opensc-pkcs11.so not found (apt-get install opensc-pkcs11)")


@pytest.fixture(scope="module")
def opensc_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for OpenSC's tools: its own opensc.conf (no file cache), an empty HOME."""
    for tool in ("opensc-tool", "pkcs15-tool", "pkcs11-tool"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} not found (scripts/pcsc-stack.sh install installs opensc)")
    home = tmp_path_factory.mktemp("opensc-home")
    conf = home / "opensc.conf"
    conf.write_text(
        "app default {\n    framework pkcs15 {\n        use_file_caching = false;\n    }\n}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSC_")}  # no forced driver
    env.update(OPENSC_CONF=str(conf), HOME=str(home))
    return env


def opensc(env: dict[str, str], *argv: str, pin: str | None = None) -> str:
    """Run an OpenSC tool; the PIN travels in the environment (`--pin env:VAR`), never in argv."""
    command = list(argv)
    if pin is not None:
        env = {**env, "JPKI_TEST_PIN": pin}
        command += ["--pin", "env:JPKI_TEST_PIN"]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"{argv[0]} failed: {result.stdout}\n{result.stderr}"
    return result.stdout


def pkcs11_tool(
    env: dict[str, str], module: str, token: str, *argv: str, pin: str | None = None
) -> str:
    args = ["pkcs11-tool", "--module", module, "--token-label", token, *argv]
    if pin is not None:
        args.append("--login")
    return opensc(env, *args, pin=pin)


def pcsc_index(reader: str) -> int:
    """OpenSC numbers the PC/SC readers in pcscd's order."""
    from smartcard.System import readers

    return [str(r) for r in readers()].index(reader)


# --- talking to the card with pyscard ---------------------------------------------------------------


@dataclass
class Connection:
    """A pyscard connection that speaks bytes."""

    raw: Any

    def transmit(self, apdu: bytes) -> bytes:
        data, sw1, sw2 = self.raw.transmit(list(apdu))
        return bytes([*data, sw1, sw2])


@pytest.fixture
def pcsc_connection(served: ServedCard) -> Iterator[Connection]:
    raw = connect(served.reader)
    try:
        yield Connection(raw)
    finally:
        raw.disconnect()


def select_ef(transmit: Transmit, fid: int) -> bytes:
    return transmit(bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big"))


def verify(transmit: Transmit, pin_ef: int, value: str) -> bytes:
    transmit(SELECT_JPKI)
    select_ef(transmit, pin_ef)
    data = value.encode("ascii")
    return transmit(bytes([0x00, 0x20, 0x00, 0x80, len(data)]) + data)


def sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big")


# --- the card behind pcscd ------------------------------------------------------------------------


def serve_in_reader_0(serve: ServerFactory, path: Path) -> str:
    serve(str(path), "--reader", "0").start()
    wait_card(READER_0, present=True)
    return READER_0


@pytest.fixture
def served(tmp_path: Path, serve: ServerFactory) -> ServedCard:
    """A fresh TEST card file, served through vpcd; its PINs and certificates read beforehand."""
    path = tmp_path / "opensc.card"
    with Card.create(path, seed=SEED) as card:
        pins = dict(card.created_pins or {})
        certificates = card.issuer.certificates()
    reader = serve_in_reader_0(serve, path)
    return ServedCard(path, reader, pcsc_index(reader), pins, certificates)


# --- the tests ------------------------------------------------------------------------------------


def test_opensc_tool_names_the_card_jpki(served: ServedCard, opensc_env: dict[str, str]) -> None:
    out = opensc(opensc_env, "opensc-tool", "--reader", str(served.index), "--name")
    assert out.strip() == "jpki"


def pkcs15_listing(served: ServedCard, env: dict[str, str]) -> str:
    return opensc(
        env, "pkcs15-tool", "--reader", str(served.index), "--list-certificates", "--list-pins"
    )


def tries_shown(listing: str) -> dict[str, int]:
    blocks = re.findall(r"PIN \[(.+?)\]\n(.*?)(?:\n\n|\Z)", listing, re.S)
    return {
        label: int(m.group(1))
        for label, body in blocks
        if (m := re.search(r"Tries left\s*:\s*(\d+)", body))
    }


def test_pkcs15_tool_lists_four_certificates_and_both_pins(
    served: ServedCard, opensc_env: dict[str, str]
) -> None:
    listing = pkcs15_listing(served, opensc_env)
    certs = re.findall(r"X\.509 Certificate \[(.+?)\]\n(.*?)(?:\n\n|\Z)", listing, re.S)
    assert [label for label, _ in certs] == [
        "User Authentication Certificate",
        "Digital Signature Certificate",
        "User Authentication Certificate CA",
        "Digital Signature Certificate CA",
    ]
    paths = [re.search(r"Path\s*:\s*(\w+)", body) for _, body in certs]
    assert [m.group(1) if m else None for m in paths] == ["000a", "0001", "000b", "0002"]
    # OpenSC read the card's own certificates (the serial it printed is the certificate's).
    auth_body = certs[0][1]
    serial = served.certificates["user_auth"].serial_number
    assert f"{serial:X}" in auth_body.replace(" ", "")
    assert "private" in certs[1][1]  # the signing certificate needs the signing password
    assert tries_shown(listing) == {"User Authentication PIN": 3, "Digital Signature PIN": 5}
    assert "min_len:4, max_len:4" in listing
    assert "min_len:6, max_len:16" in listing


def test_wrong_entries_lower_the_tries_and_a_locked_pin_shows_locked(
    served: ServedCard,
    opensc_env: dict[str, str],
    pkcs11_module: str,
    pcsc_connection: Connection,
) -> None:
    send = pcsc_connection.transmit
    wrong = "0000" if served.pins[PinName.USER_AUTH] != "0000" else "1111"
    assert sw(verify(send, AUTH_PIN_EF, wrong)) == 0x63C2
    assert sw(verify(send, SIGN_PIN_EF, "WRONG1")) == 0x63C4
    assert tries_shown(pkcs15_listing(served, opensc_env)) == {
        "User Authentication PIN": 2,
        "Digital Signature PIN": 4,
    }
    assert sw(verify(send, AUTH_PIN_EF, wrong)) == 0x63C1
    assert sw(verify(send, AUTH_PIN_EF, wrong)) == 0x63C0
    assert sw(verify(send, AUTH_PIN_EF, served.pins[PinName.USER_AUTH])) == 0x6984  # locked
    # The card still answers the query with 63C0, so OpenSC binds and shows 0 tries.
    assert tries_shown(pkcs15_listing(served, opensc_env))["User Authentication PIN"] == 0
    slots = opensc(opensc_env, "pkcs11-tool", "--module", pkcs11_module, "--list-token-slots")
    auth_slot = slots[slots.index(AUTH_TOKEN) :].split("\n\n")[0]
    assert "user PIN locked" in auth_slot
    sign_slot = slots[slots.index(SIGN_TOKEN) :].split("\n\n")[0]
    assert "user PIN locked" not in sign_slot


def signs_and_verifies(
    served: ServedCard, env: dict[str, str], module: str, tmp_path: Path, key_id: str, pin: str
) -> None:
    """Log in to the key's slot, sign with SHA256-RSA-PKCS, verify against the card's cert."""
    token, cert_name = (AUTH_TOKEN, "user_auth") if key_id == "01" else (SIGN_TOKEN, "signing")
    message = tmp_path / "message.txt"
    message.write_bytes(b"JPKI TEST message, " + key_id.encode())
    signature = tmp_path / f"signature-{key_id}.bin"
    pkcs11_tool(
        env,
        module,
        token,
        "--sign",
        "--id",
        key_id,
        "--mechanism",
        "SHA256-RSA-PKCS",
        "--input-file",
        str(message),
        "--output-file",
        str(signature),
        pin=pin,
    )
    key = served.certificates[cert_name].public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    raw = signature.read_bytes()
    assert len(raw) == 256
    key.verify(raw, message.read_bytes(), padding.PKCS1v15(), hashes.SHA256())  # raises if wrong


def test_pkcs11_signs_with_the_user_authentication_key(
    served: ServedCard, opensc_env: dict[str, str], pkcs11_module: str, tmp_path: Path
) -> None:
    pin = served.pins[PinName.USER_AUTH]
    signs_and_verifies(served, opensc_env, pkcs11_module, tmp_path, "01", pin)


def test_pkcs11_signs_with_the_signing_key(
    served: ServedCard, opensc_env: dict[str, str], pkcs11_module: str, tmp_path: Path
) -> None:
    pin = served.pins[PinName.SIGNING]
    signs_and_verifies(served, opensc_env, pkcs11_module, tmp_path, "02", pin)


def test_pkcs11_refuses_the_auth_pin_on_the_signing_slot(
    served: ServedCard, opensc_env: dict[str, str], pkcs11_module: str
) -> None:
    args = ["pkcs11-tool", "--module", pkcs11_module, "--token-label", SIGN_TOKEN, "--login"]
    env = {**opensc_env, "JPKI_TEST_PIN": served.pins[PinName.USER_AUTH]}
    result = subprocess.run(
        [*args, "--pin", "env:JPKI_TEST_PIN", "--list-objects"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "CKR_PIN_LEN_RANGE" in result.stderr  # 4 characters: OpenSC refuses before the card


# --- the same flows through pcscd and in-process -----------------------------------------------------


def jpki_session(transmit: Transmit, pins: dict[PinName, str]) -> list[tuple[bytes, bytes]]:
    """Select, read every certificate, query both PINs, verify, sign with both keys."""
    log: list[tuple[bytes, bytes]] = []

    def send(apdu: bytes) -> bytes:
        response = transmit(apdu)
        log.append((apdu, response))
        return response

    def read_current() -> None:
        head = send(bytes.fromhex("00B0000004"))
        if sw(head) != 0x9000:
            return
        size = int.from_bytes(head[2:4], "big") + 4
        for offset in range(0, size, 256):
            le = min(256, size - offset) & 0xFF
            send(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, le]))

    digest_info = SHA256_DIGEST_INFO + bytes(range(32))
    send(SELECT_JPKI)
    for fid in CERT_EFS:
        select_ef(send, fid)
        read_current()  # 0001 answers 6982 here: no signing password yet
    for pin_ef, key_ef, pin in (
        (AUTH_PIN_EF, AUTH_KEY_EF, pins[PinName.USER_AUTH]),
        (SIGN_PIN_EF, SIGN_KEY_EF, pins[PinName.SIGNING]),
    ):
        select_ef(send, pin_ef)
        send(bytes.fromhex("00200080"))
        data = pin.encode("ascii")
        send(bytes([0x00, 0x20, 0x00, 0x80, len(data)]) + data)
        send(bytes.fromhex("00200080"))
        select_ef(send, key_ef)
        send(bytes([0x80, 0x2A, 0x00, 0x80, len(digest_info)]) + digest_info + b"\x00")
    select_ef(send, 0x0001)
    read_current()  # now readable
    return log


def test_pcscd_and_in_process_give_identical_answers(tmp_path: Path, serve: ServerFactory) -> None:
    through_pcscd, in_process = tmp_path / "a.card", tmp_path / "b.card"
    with Card.create(through_pcscd, seed=SEED) as card:
        pins = dict(card.created_pins or {})
    Card.create(in_process, seed=SEED).close()  # same seed, same card byte for byte

    raw = connect(serve_in_reader_0(serve, through_pcscd))
    try:
        pcscd_log = jpki_session(Connection(raw).transmit, pins)
    finally:
        raw.disconnect()

    with Card.open(in_process) as card, emulated_reader(card, keep_pcsc=True) as emulated:
        raw = emulated.createConnection()
        raw.connect()
        try:
            in_process_log = jpki_session(Connection(raw).transmit, pins)
        finally:
            raw.disconnect()

    assert [sw(r) for _, r in pcscd_log].count(0x9000) > 20
    assert pcscd_log == in_process_log
