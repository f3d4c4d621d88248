#!/usr/bin/env python3
"""Benchmark (not a test): APDU round trips per second through pcscd + vpcd, with pyscard.

Two cards are served in the same run, one per vpcd reader:
  * the emulator: a fresh TEST card file served by ``mynacard serve``;
  * the transport floor: a minimal stdlib card answering 9000 to everything (a subprocess of this
    script, with TCP_QUICKACK after every recv, as pcsc-vpcd.md §2 measured it).
Workloads: SELECT alone, and the OpenSC-style JPKI flow (SELECT AP, query both PINs, read the four
certificates in ≤256-byte chunks; the same command list is replayed to the floor card). The in-process
pyscard reader (no pcscd) runs the same workloads for comparison.

Needs the PC/SC stack (scripts/pcsc-stack.sh start) and both vpcd readers free. Run from the repo:
    .venv/bin/python benchmarks/bench_pcsc.py [--reader 0] [--rounds 5] [--selects 2000] [--flows 100]
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VPCD_PORT = 35963  # reader `Virtual PCD 00 0n` listens on 35963 + n (pcsc-vpcd.md §1)
FLOOR_ATR = bytes.fromhex("3BE000FF8131FE4514")
SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
PIN_EFS = (0x0018, 0x001B)
CERT_EFS = (0x000A, 0x0001, 0x000B, 0x0002)  # the order OpenSC reads them in
QUERY_PIN = bytes.fromhex("00200080")
READY_TIMEOUT = 20.0

Transmit = Callable[[bytes], bytes]


# --- the floor card: stdlib only, run as `bench_pcsc.py --floor-card PORT` --------------------------


def serve_floor_card(port: int) -> None:
    """Answer the ATR to get-ATR, nothing to other control codes, 9000 to every APDU."""
    quickack = getattr(socket, "TCP_QUICKACK", 12)
    with socket.create_connection(("127.0.0.1", port)) as sock:

        def read_exact(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = sock.recv(n - len(data))
                sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)  # not sticky: after each recv
                if not chunk:
                    raise EOFError
                data += chunk
            return data

        try:
            while True:
                payload = read_exact(int.from_bytes(read_exact(2), "big"))
                if len(payload) == 1:
                    if payload[0] == 0x04:
                        sock.sendall(len(FLOOR_ATR).to_bytes(2, "big") + FLOOR_ATR)
                    continue
                sock.sendall(b"\x00\x02\x90\x00")
        except (EOFError, OSError):
            return


# --- bringing the two cards up ----------------------------------------------------------------------


def reader_name(index: int) -> str:
    return f"Virtual PCD 00 {index:02d}"


def port_has_card(port: int) -> bool:
    """True when some local process is already connected to this vpcd port (Linux /proc)."""
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    for row in rows:
        fields = row.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == "01":  # ESTABLISHED
            return True
    return False


def wait_for_card(name: str, timeout: float = READY_TIMEOUT) -> None:
    from smartcard.Exceptions import CardConnectionException, NoCardException
    from smartcard.System import readers

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for reader in readers():
            if str(reader) == name:
                connection = reader.createConnection()
                try:
                    connection.connect()
                except (NoCardException, CardConnectionException):
                    break
                connection.disconnect()
                return
        time.sleep(0.1)
    raise SystemExit(f"bench: no card appeared in {name!r} within {timeout:.0f} s")


@contextmanager
def process(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(argv, text=True, **kwargs)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def served_card(index: int, card_path: Path) -> Iterator[None]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "card_emulator.cli", "serve", str(card_path), "--reader"]
    serve = [*argv, str(index)]
    with process(
        serve, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("ready:"):
            raise SystemExit(f"bench: mynacard serve did not start ({line.strip()!r})")
        wait_for_card(reader_name(index))
        yield


@contextmanager
def floor_card(index: int) -> Iterator[None]:
    argv = [sys.executable, __file__, "--floor-card", str(VPCD_PORT + index)]
    with process(argv):
        wait_for_card(reader_name(index))
        yield


# --- workloads ----------------------------------------------------------------------------------------


def pcsc_transmitter(name: str) -> tuple[Transmit, Callable[[], None]]:
    from smartcard.System import readers

    reader = next(r for r in readers() if str(r) == name)
    connection = reader.createConnection()
    connection.connect()

    def transmit(apdu: bytes) -> bytes:
        data, sw1, sw2 = connection.transmit(list(apdu))
        return bytes([*data, sw1, sw2])

    return transmit, connection.disconnect


def select_ef(fid: int) -> bytes:
    return bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big")


def read_binary(offset: int, length: int) -> bytes:
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF])  # Le 00 = 256


def jpki_flow(transmit: Transmit) -> list[bytes]:
    """The OpenSC-style flow (opensc-jpki.md §4); returns the commands it sent."""
    sent: list[bytes] = []

    def send(apdu: bytes) -> bytes:
        sent.append(apdu)
        return transmit(apdu)

    send(SELECT_JPKI)
    for fid in PIN_EFS:
        send(select_ef(fid))
        send(QUERY_PIN)
    for fid in CERT_EFS:
        send(select_ef(fid))
        head = send(read_binary(0, 4))
        if head[-2:] != b"\x90\x00" or len(head) < 6:
            continue  # the signing certificate needs its PIN
        size = int.from_bytes(head[2:4], "big") + 4
        for offset in range(0, size, 256):
            send(read_binary(offset, min(256, size - offset)))
    return sent


def rate(run: Callable[[], int], rounds: int) -> float:
    """Median APDUs per second over ``rounds`` runs."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        count = run()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


Row = tuple[str, str, float, int]  # path, workload, APDU/s, APDUs per workload


def measure(
    label: str, transmit: Transmit, flow: list[bytes], rounds: int, selects: int, flows: int
) -> list[Row]:
    def run_selects() -> int:
        for _ in range(selects):
            transmit(SELECT_JPKI)
        return selects

    def run_flows() -> int:
        for _ in range(flows):
            for apdu in flow:
                transmit(apdu)
        return flows * len(flow)

    transmit(SELECT_JPKI)  # warm up
    return [
        (label, "SELECT AP", rate(run_selects, rounds), 1),
        (label, "JPKI flow", rate(run_flows, rounds), len(flow)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reader", type=int, choices=(0, 1), default=0, help="reader of the emulator"
    )
    parser.add_argument("--rounds", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--selects", type=int, default=2000, help="SELECTs per run")
    parser.add_argument("--flows", type=int, default=100, help="JPKI flows per run")
    parser.add_argument("--floor-card", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_card:
        serve_floor_card(args.floor_card)
        return

    sys.path.insert(0, str(REPO))
    from card_emulator import Card
    from card_emulator.transport.pyscard_reader import emulated_reader, pcscd_reachable

    if not pcscd_reachable():
        raise SystemExit("bench: pcscd is not running (scripts/pcsc-stack.sh start)")
    emulator_index, floor_index = args.reader, 1 - args.reader
    for index in (emulator_index, floor_index):
        if port_has_card(VPCD_PORT + index):
            raise SystemExit(f"bench: {reader_name(index)} already holds a card; stop it first")

    rounds, selects, flows = int(args.rounds), int(args.selects), int(args.flows)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-pcsc-") as tmp:
        card_path = Path(tmp) / "bench.card"
        Card.create(card_path, seed=1).close()  # a TEST card
        with served_card(emulator_index, card_path), floor_card(floor_index):
            transmit, done = pcsc_transmitter(reader_name(emulator_index))
            flow = jpki_flow(transmit)
            rows += measure(
                f"emulator via pcscd ({reader_name(emulator_index)})",
                transmit,
                flow,
                rounds,
                selects,
                flows,
            )
            done()
            transmit, done = pcsc_transmitter(reader_name(floor_index))
            rows += measure(
                f"9000 floor via pcscd ({reader_name(floor_index)})",
                transmit,
                flow,
                rounds,
                selects,
                flows,
            )
            done()
        with Card.open(card_path) as card, emulated_reader(card, keep_pcsc=False) as reader:
            connection = reader.createConnection()
            connection.connect()

            def in_process(apdu: bytes) -> bytes:
                data, sw1, sw2 = connection.transmit(list(apdu))
                return bytes([*data, sw1, sw2])

            rows += measure(
                "emulator in-process (no pcscd)", in_process, flow, rounds, selects, flows
            )
            connection.disconnect()

    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"median of {rounds} runs; {selects} SELECTs or {flows} flows per run")
    header = (
        f"{'path':<44} {'workload':<10} {'APDUs':>5} {'APDU/s':>8} {'µs/APDU':>8} {'flows/s':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, workload, per_second, count in rows:
        per_flow = f"{per_second / count:8,.1f}" if count > 1 else f"{'':>8}"
        print(
            f"{label:<44} {workload:<10} {count:>5} {per_second:>8,.0f} "
            f"{1e6 / per_second:>8,.0f} {per_flow}"
        )


if __name__ == "__main__":
    main()
