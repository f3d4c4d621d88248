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

Needs the PC/SC stack (started with 3 readers if it is not running) and readers 0-2 free; on the
shared machine, under the lock:
    flock /tmp/mynacard-pcsc.lock .venv/bin/python benchmarks/bench_pcsc.py [--rounds 41]
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


def main() -> None:
    bench = Bench(
        "bench_pcsc",
        "served card through pcscd + vpcd vs the transport floor (per APDU)",
        rounds=41,
        options=options,
    )
    from card_emulator import Card

    pcsclib.start_stack(len(CARDS))
    pcsclib.check_free(list(CARDS.values()))
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
        bench.run(cases)

    select = bench.ratio("floor: SELECT AP", "served: SELECT AP")
    flow = bench.ratio("floor: JPKI flow", "served: JPKI flow")
    transport_select = bench.ratio("floor: SELECT AP", "stub: SELECT AP")
    transport_flow = bench.ratio("floor: JPKI flow", "stub: JPKI flow")
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
    bench.finish()


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
