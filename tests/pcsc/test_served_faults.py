"""Traces and faults of the test kit on a served card, through the real pcscd + vpcd (issue 8).

The trace is the kit's JSON Lines format; the faults are the kit's fault plan, applied by the same
``Slot`` as in-process, with a removal that takes the card out of the vpcd reader for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from card_emulator import Card, PinName
from card_emulator.trace import read_trace
from card_emulator.transport.vpcd import reader_name
from tests.pcsc.conftest import REPO, ServerFactory, connect, transmit, wait_card

pytestmark = [pytest.mark.pcsc, pytest.mark.usefixtures("private_runtime_dir")]

READER = 2  # not 0 or 1, which every other PC/SC test of the project uses
READER_NAME = reader_name(READER)

SELECT_JPKI_AP = "00A4040C0AD392F000260100000001"
SELECT_USER_AUTH_PIN = "00A4020C020018"
SELECT_USER_AUTH_KEY = "00A4020C020017"
SIGN = "802A008033" + "3031300D060960864801650304020105000420" + "00" * 32 + "00"
OK = 0x9000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[PinName, str]]:
    path = tmp_path_factory.mktemp("faults") / "template.card"
    with Card.create(path, seed=31) as card:
        assert card.created_pins is not None
        return path, dict(card.created_pins)


def mynacard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def ctl(path: Path, *args: str) -> dict[str, object]:
    done = mynacard("ctl", str(path), *args, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def served_copy(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "served.card"
    shutil.copyfile(template, path)
    return path


def verify(value: str) -> str:
    return "00200080" + f"{len(value):02X}" + value.encode().hex()


def test_a_trace_of_pkcs15_tool_holds_exactly_the_apdus_opensc_sent(
    serve: ServerFactory, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    if shutil.which("pkcs15-tool") is None:
        pytest.fail("pkcs15-tool not found (scripts/pcsc-stack.sh install installs opensc)")
    path = served_copy(template[0], tmp_path)
    trace_file = tmp_path / "opensc.trace.jsonl"
    server = serve(str(path), "--reader", str(READER), "--trace", str(trace_file))
    server.start()
    opensc_log = tmp_path / "opensc.log"
    conf = tmp_path / "opensc.conf"
    conf.write_text(
        f"app default {{\n debug = 9;\n debug_file = {opensc_log};\n"
        " framework pkcs15 { use_file_caching = false; }\n}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSC_")}
    env.update(OPENSC_CONF=str(conf), HOME=str(tmp_path))
    listing = subprocess.run(
        ["pkcs15-tool", "--reader", str(READER), "--list-certificates", "--list-pins"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    assert server.stop() == 0
    # What OpenSC sent, from its own debug log: "Outgoing APDU (N bytes):" then hex dump lines.
    sent = []
    lines = opensc_log.read_text(errors="replace").splitlines()
    for index, line in enumerate(lines):
        found = re.match(r"Outgoing APDU \((\d+) bytes\):", line)
        if found:
            size, data = int(found.group(1)), ""
            for dump in lines[index + 1 :]:
                data += "".join(re.findall(r"\b[0-9A-F]{2}\b", dump[:48]))
                if len(data) >= 2 * size:
                    break
            sent.append(data[: 2 * size])
    trace = read_trace(trace_file)
    assert trace.header.transport == "vpcd"
    assert trace.header.card["serial"] == Card.open(path).issuer.meta()["serial"]
    recorded = [entry.command for entry in trace.entries if entry.event == "exchange"]
    assert len(sent) > 20
    assert recorded == sent  # every APDU, in order, nothing else (no PIN was sent: no redaction)
    shown = mynacard("trace", "show", str(trace_file))
    assert shown.returncode == 0, shown.stderr
    assert "6A82" in shown.stdout  # the card's refusals of the other drivers' probes, explained


def test_force_status_corrupt_and_clear(
    serve: ServerFactory, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    path = served_copy(template[0], tmp_path)
    right = template[1][PinName.USER_AUTH]
    server = serve(str(path), "--reader", str(READER))
    server.start()
    trace_file = tmp_path / "t.jsonl"
    ctl(path, "trace", "start", str(trace_file))
    ctl(path, "fault", "force_status", "sw=6581", "match=SIGN")
    ctl(path, "fault", "corrupt", "match=00A4020C020018", "offset=-1", "xor=1")
    status = ctl(path, "status")
    assert status["trace"] == str(trace_file)
    assert mynacard("pin", "status", str(path)).returncode == 0  # the channel's: not in the trace
    connection = connect(READER_NAME)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == 0x9001  # corrupted SW2
    assert transmit(connection, verify(right))[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_KEY)[1] == OK
    assert transmit(connection, SIGN)[1] == 0x6581  # forced, the card never saw it
    signature, sw = transmit(connection, SIGN)
    assert sw == OK and len(signature) == 256  # times=1: the next one reaches the card
    ctl(path, "clear")
    assert ctl(path, "status")["faults"] is None
    assert ctl(path, "trace", "stop")["exchanges"] == 6
    connection.disconnect()
    entries = [e for e in read_trace(trace_file).entries if e.event == "exchange"]
    assert [e.sw for e in entries] == ["9000", "9001", "9000", "9000", "6581", "9000"]
    assert entries[1].card_response == "9000" and entries[1].faults[0]["fault"] == "corrupt"
    assert entries[4].faults[0]["fault"] == "force_status"
    assert "<4 bytes redacted>" in (entries[2].command or "")  # the PIN never reaches the file
    assert right.encode().hex().upper() not in trace_file.read_text()
    assert server.stop() == 0


def test_a_removal_fault_takes_the_card_out_of_the_reader(
    serve: ServerFactory, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    from smartcard.Exceptions import CardConnectionException

    path = served_copy(template[0], tmp_path)
    server = serve(str(path), "--reader", str(READER))
    server.start()
    ctl(path, "fault", "remove", "match=VERIFY")
    connection = connect(READER_NAME)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    with pytest.raises(CardConnectionException):
        transmit(connection, "00200080")  # pulled out at this command: no answer
    wait_card(READER_NAME, present=False)
    with contextlib.suppress(CardConnectionException):
        connection.disconnect()
    assert ctl(path, "status")["inserted"] is False
    ctl(path, "insert")
    wait_card(READER_NAME, present=True)
    connection = connect(READER_NAME)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    connection.disconnect()
    assert server.stop() == 0


def test_tearing_spends_the_try_and_the_card_comes_back(
    serve: ServerFactory, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    from smartcard.Exceptions import CardConnectionException

    path = served_copy(template[0], tmp_path)
    right = template[1][PinName.USER_AUTH]
    server = serve(str(path), "--reader", str(READER))
    server.start()
    ctl(path, "fault", "tear", "pin=user_auth", "reinsert_after=0")
    connection = connect(READER_NAME)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    with pytest.raises(CardConnectionException):
        transmit(connection, verify(right))  # power lost after the counter write
    with contextlib.suppress(CardConnectionException):
        connection.disconnect()
    connection = connect(READER_NAME)  # back at once (reinsert_after=0)
    assert transmit(connection, SELECT_JPKI_AP)[1] == OK
    assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == OK
    assert transmit(connection, "00200080")[1] == 0x63C2  # the right value, and yet a try spent
    assert transmit(connection, verify(right))[1] == OK
    connection.disconnect()
    assert server.stop() == 0


def test_bad_faults_are_one_line(
    serve: ServerFactory, template: tuple[Path, dict[PinName, str]], tmp_path: Path
) -> None:
    path = served_copy(template[0], tmp_path)
    server = serve(str(path), "--reader", str(READER))
    server.start()
    done = mynacard("ctl", str(path), "fault", "melt", "now=1")
    assert done.returncode == 1
    assert done.stderr.startswith("mynacard ctl: unknown fault 'melt'")
    assert done.stderr.count("\n") == 1
    done = mynacard("ctl", str(path), "fault", "remove")  # neither after nor match
    assert done.returncode == 1 and "exactly one of" in done.stderr
    assert server.stop() == 0
