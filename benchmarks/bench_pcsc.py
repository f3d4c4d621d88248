#!/usr/bin/env python3
"""Benchmark (not a test): the served card through pcscd + vpcd against the transport floor.

Three cards in three vpcd readers at once (benchmarks/pcsclib.py), driven by pyscard from this
process, their cases interleaved in every round:
  * served (reader 0): ``mynacard serve`` with a TEST card file (seed 1);
  * floor (reader 1): the least a card can do over the same vpcd protocol, with the same socket
    options and reads as the project's transport, replaying the served card's responses;
  * stub (reader 2): the project's transport (``VpcdClient``) around a replaying card: the
    transport alone.
Workloads: SELECT of the JPKI AP, and the OpenSC-style JPKI flow (SELECT AP, both PINs' tries,
the certificates read in 256-byte chunks: what ``pkcs15-tool`` sends). Figures are per APDU; the
ratio is the floor's time over the served card's (1.0 = as fast as the floor). Beside them, the CPU
each card process spent per APDU (Linux schedstat).

``--suspects`` measures, one at a time, what a serving loop may add to the floor (issue 10's
suspects): the floor waiting in ``select()`` or ``poll()`` before every ``recv``, reading exact
sizes (``recv(2)`` then ``recv(n)``), Nagle left on, and the served card with a trace being
recorded (readers 3-7, SELECT only); then the in-process cost of the loop's small parts.

Needs the PC/SC stack (started with 3 readers, 8 with --suspects, if it has fewer) and those
readers free; on the shared machine, under the lock:
    flock /tmp/mynacard-pcsc.lock .venv/bin/python benchmarks/bench_pcsc.py [--rounds 41] [--suspects]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pcsclib
from benchlib import REPO, Bench, Case, fmt_time

sys.path.insert(0, str(REPO))

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
PIN_EFS = (0x0018, 0x001B)
CERT_EFS = (0x000A, 0x0001, 0x000B, 0x0002)  # the order OpenSC reads them in
QUERY_PIN = bytes.fromhex("00200080")
CARDS = {"served": 0, "floor": 1, "stub": 2}  # reader of each card
# --suspects: one habit at a time on top of the floor, and the served card with a trace on
SUSPECTS = {
    "floor+select": 3,  # select() on the socket and a wake-up socket before every recv
    "floor+poll": 4,  # poll() on the same two before every recv
    "floor-exact-reads": 5,  # recv(2) for the length, then recv(n)
    "floor-nodelay-off": 6,  # Nagle left on on the card's side
    "served+trace": 7,  # mynacard serve --trace FILE: the kit's Slot and Recorder per APDU
}


def select_ef(fid: int) -> bytes:
    return bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big")


def read_binary(offset: int, length: int) -> bytes:
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF])  # Le 00 = 256


def jpki_flow(transmit: pcsclib.Transmit) -> None:
    """The OpenSC-style flow (pcsc-vpcd.md §3)."""
    transmit(SELECT_JPKI)
    for fid in PIN_EFS:
        transmit(select_ef(fid))
        transmit(QUERY_PIN)
    for fid in CERT_EFS:
        transmit(select_ef(fid))
        head = transmit(read_binary(0, 4))
        if head[-2:] != b"\x90\x00" or len(head) < 6:
            continue  # the signing certificate needs its PIN
        size = int.from_bytes(head[2:4], "big") + 4
        for offset in range(0, size, 256):
            transmit(read_binary(offset, min(256, size - offset)))


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--selects", type=int, default=300, help="SELECTs per sample")
    parser.add_argument("--flows", type=int, default=8, help="JPKI flows per sample")
    parser.add_argument(
        "--suspects", action="store_true", help="also measure the suspects one at a time"
    )


def main() -> None:
    bench = Bench(
        "bench_pcsc",
        "served card through pcscd + vpcd vs the transport floor (per APDU)",
        rounds=41,
        options=options,
    )
    from card_emulator import Card

    suspects = SUSPECTS if bench.args.suspects else {}
    pcsclib.start_stack(len(CARDS) + len(suspects))
    pcsclib.check_free([*CARDS.values(), *suspects.values()])
    selects, flows = int(bench.args.selects), int(bench.args.flows)
    with tempfile.TemporaryDirectory(prefix="bench-pcsc-") as folder, ExitStack() as stack:
        card_path = Path(folder) / "bench.card"
        transcript = Path(folder) / "transcript.json"
        Card.create(card_path, seed=1).close()  # a TEST card
        with Card.open(card_path) as card:  # what the served card answers, recorded in-process
            recorder = pcsclib.RecordingCard(card)
            jpki_flow(recorder.transmit)
            pcsclib.write_transcript(transcript, card.atr, recorder.exchanges)
        expected = recorder.exchanges
        pids = {
            "served": stack.enter_context(pcsclib.served_card(CARDS["served"], card_path)),
            "floor": stack.enter_context(pcsclib.bench_card("floor", CARDS["floor"], transcript)),
            "stub": stack.enter_context(pcsclib.bench_card("stub", CARDS["stub"], transcript)),
        }
        cpu: dict[str, list[float]] = {}
        cases: list[Case] = []
        for name, reader in CARDS.items():
            transmit = stack.enter_context(pcsclib.pcsc_connection(pcsclib.reader_name(reader)))
            answered = pcsclib.RecordingCard(_Wire(transmit))
            jpki_flow(answered.transmit)  # warm-up; every card answers exactly what was recorded
            if answered.exchanges != expected:
                raise SystemExit(f"bench: the {name} card does not answer the flow as recorded")
            cases.append(
                Case(f"{name}: SELECT AP", sampler(transmit, pids[name], selects, cpu, name, "sel"))
            )
            cases.append(
                Case(f"{name}: JPKI flow", sampler(transmit, pids[name], flows, cpu, name, "flow"))
            )
        for name, reader in suspects.items():
            if name == "served+trace":
                trace = Path(folder) / "trace.jsonl"
                copy = Path(folder) / "traced.card"
                copy.write_bytes(card_path.read_bytes())
                pid = stack.enter_context(pcsclib.served_card(reader, copy, "--trace", str(trace)))
            else:
                pid = stack.enter_context(pcsclib.bench_card(name, reader, transcript))
            transmit = stack.enter_context(pcsclib.pcsc_connection(pcsclib.reader_name(reader)))
            cases.append(
                Case(f"{name}: SELECT AP", sampler(transmit, pid, selects, cpu, name, "sel"))
            )
        bench.run(cases)

    select = bench.ratio("floor: SELECT AP", "served: SELECT AP")
    flow = bench.ratio("floor: JPKI flow", "served: JPKI flow")
    transport_select = bench.ratio("floor: SELECT AP", "stub: SELECT AP")
    transport_flow = bench.ratio("floor: JPKI flow", "stub: JPKI flow")
    for name in suspects:
        bench.ratio("floor: SELECT AP", f"{name}: SELECT AP")
    per_apdu = {key: sum(values) / len(values) for key, values in cpu.items()}
    for key, seconds in sorted(per_apdu.items()):
        print(f"   CPU of the {key.split('/')[0]} card per APDU ({key.split('/')[1]}): "
              f"{fmt_time(seconds)}")  # fmt: skip
    bench.summary(
        "served through pcscd + vpcd vs a minimal card over the same vpcd protocol (the floor)",
        f"SELECT {select.median:.2f}× ({select.low:.2f}–{select.high:.2f}), JPKI flow "
        f"{flow.median:.2f}× ({flow.low:.2f}–{flow.high:.2f})",
        goal="≥ 0.9×",
        pair=f"the transport alone (our vpcd loop, a replaying card) {transport_select.median:.2f}× "
        f"/ {transport_flow.median:.2f}×; floor {fmt_time(bench.median('floor: SELECT AP').median)}"
        f" a SELECT; card CPU per SELECT: served {fmt_time(per_apdu['served/sel'])}, floor "
        f"{fmt_time(per_apdu['floor/sel'])}",
        select=select.median,
        flow=flow.median,
    )
    if suspects:
        micro_costs()
    bench.finish()


def micro_costs() -> None:
    """The in-process price of a serving loop's small parts (hot caches: a lower bound)."""
    import contextlib
    import logging
    import select
    import socket
    import threading
    import timeit

    from card_emulator import Card
    from card_emulator.transport.vpcd import VpcdParser, frame

    server = socket.create_server(("127.0.0.1", 0))
    near = socket.create_connection(server.getsockname())
    far, _ = server.accept()
    wake, _other = socket.socketpair()
    near.sendall(b"x")  # readable from now on: select/poll return at once
    time.sleep(0.05)
    poller = select.poll()
    poller.register(far, select.POLLIN)
    poller.register(wake, select.POLLIN)
    parser = VpcdParser()
    message = frame(SELECT_JPKI)
    lock = threading.RLock()
    log = logging.getLogger("card_emulator.transport.vpcd")
    card = Card.create(None, seed=1)

    def suppressed() -> None:
        with contextlib.suppress(OSError):
            far.setsockopt(socket.IPPROTO_TCP, 12, 1)

    def try_except() -> None:
        try:  # noqa: SIM105 (the form measured)
            far.setsockopt(socket.IPPROTO_TCP, 12, 1)
        except OSError:
            pass

    def locked() -> None:
        with lock:
            pass

    def header_then_body() -> None:
        parser.payloads(message[:2])
        parser.payloads(message[2:])

    parts: dict[str, Callable[[], object]] = {
        "select.select([sock, wake]) (readable)": lambda: select.select([far, wake], [], []),
        "poll() on the same two (readable)": poller.poll,
        "TCP_QUICKACK setsockopt in try/except": try_except,
        "the same in contextlib.suppress": suppressed,
        "VpcdParser.payloads: length, then body": header_then_body,
        "log.isEnabledFor(DEBUG) (the logging guard)": lambda: log.isEnabledFor(logging.DEBUG),
        "RLock enter + exit (the card lock)": locked,
        "frame(9000)": lambda: frame(b"\x90\x00"),
        "Card.transmit(SELECT AP)": lambda: card.transmit(SELECT_JPKI),
    }
    print("   in-process, hot caches (what a served card pays is 2-3x this, caches cold):")
    for label, part in parts.items():
        seconds = min(timeit.repeat(part, number=20_000, repeat=5)) / 20_000
        print(f"     {label:<48} {seconds * 1e9:8.0f} ns")
    for sock in (server, near, far, wake, _other):
        sock.close()


class _Wire:
    """A pyscard connection seen as a card, to record what it answers."""

    def __init__(self, transmit: pcsclib.Transmit) -> None:
        self.transmit = transmit


def sampler(
    transmit: pcsclib.Transmit,
    pid: int,
    count: int,
    cpu: dict[str, list[float]],
    name: str,
    workload: str,
) -> Callable[[], float]:
    """Seconds per APDU of ``count`` SELECTs or flows; the card process's CPU per APDU kept."""
    apdus = count if workload == "sel" else count * flow_length(transmit)

    def sample() -> float:
        before = pcsclib.cpu_seconds(pid)
        start = time.perf_counter()
        if workload == "sel":
            for _ in range(count):
                transmit(SELECT_JPKI)
        else:
            for _ in range(count):
                jpki_flow(transmit)
        elapsed = time.perf_counter() - start
        cpu.setdefault(f"{name}/{workload}", []).append((pcsclib.cpu_seconds(pid) - before) / apdus)
        return elapsed / apdus

    return sample


def flow_length(transmit: pcsclib.Transmit) -> int:
    count = 0

    def counting(apdu: bytes) -> bytes:
        nonlocal count
        count += 1
        return transmit(apdu)

    jpki_flow(counting)
    return count


if __name__ == "__main__":
    main()
