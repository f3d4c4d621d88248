#!/usr/bin/env python3
"""Benchmark (not a test): many served cards at once through pcscd, each driven by its own client.

CARDS ``mynacard serve --reader K`` processes (one TEST card file each) and, per run, either one
client process on reader 0 alone or CARDS client processes at once, one per reader; each client sends
SELECTS SELECT round trips through pyscard and reports its time. Runs alternate (alone, all, alone,
all, ...) so that machine noise hits both alike; the figures are medians: APDU/s of the lone card, APDU/s
of each card and in total when all run at once, and the ratio of the total to the lone card.

Starts the PC/SC stack with CARDS readers (scripts/pcsc-stack.sh start --readers CARDS), which must
all be free; on the shared machine, under the lock:
    flock /tmp/mynacard-pcsc.lock .venv/bin/python benchmarks/bench_served.py [--cards 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
READY_TIMEOUT = 30.0


def run_client(reader: str, selects: int) -> None:
    """``--client READER N``: N SELECTs, print the seconds they took."""
    from smartcard.System import readers

    connection = next(r for r in readers() if str(r) == reader).createConnection()
    connection.connect()
    apdu = list(SELECT_JPKI)
    started = time.perf_counter()
    for _ in range(selects):
        _, sw1, sw2 = connection.transmit(apdu)
        assert (sw1, sw2) == (0x90, 0x00)
    elapsed = time.perf_counter() - started
    connection.disconnect()
    print(json.dumps({"seconds": elapsed}))


def clients(names: list[str], selects: int) -> list[float]:
    """Start one client per reader at once; APDU/s of each."""
    started = [
        subprocess.Popen(
            [sys.executable, __file__, "--client", name, str(selects)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    rates = []
    for process in started:
        out, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            raise SystemExit(f"a client failed ({process.returncode})")
        rates.append(selects / json.loads(out)["seconds"])
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cards", type=int, default=8, help="cards served at once")
    parser.add_argument("--rounds", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--selects", type=int, default=1000, help="SELECTs per client and run")
    parser.add_argument("--client", nargs=2, metavar=("READER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_client(args.client[0], int(args.client[1]))
        return

    sys.path.insert(0, str(REPO))
    from card_emulator import Card
    from card_emulator.transport.vpcd import reader_name

    names = [reader_name(k) for k in range(args.cards)]
    stack_script = REPO / "scripts" / "pcsc-stack.sh"
    subprocess.run(["bash", str(stack_script), "start", "--readers", str(args.cards)], check=True)
    with tempfile.TemporaryDirectory(prefix="bench-served-") as folder, ExitStack() as stack:
        template = Path(folder) / "template.card"
        Card.create(template, seed=990).close()
        env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_RUNTIME_DIR": folder}
        for k in range(args.cards):
            path = Path(folder) / f"card{k}.card"
            path.write_bytes(template.read_bytes())
            ready = Path(folder) / f"ready{k}"
            server = subprocess.Popen(
                [sys.executable, "-m", "card_emulator.cli", "serve", str(path), "--reader",
                 str(k), "--ready-file", str(ready), "--timeout", str(READY_TIMEOUT)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(server.wait, 30)
            stack.callback(server.terminate)
            deadline = time.monotonic() + READY_TIMEOUT
            while not ready.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"serve --reader {k} did not become ready ({server.poll()})")
                time.sleep(0.05)
        alone: list[float] = []
        each: list[float] = []
        total: list[float] = []
        clients(names, 50)  # warm-up: every reader connected once
        for _ in range(args.rounds):
            alone.append(clients(names[:1], args.selects)[0])
            rates = clients(names, args.selects)
            each.extend(rates)
            total.append(sum(rates))
    lone, together = statistics.median(alone), statistics.median(total)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"{args.cards} served cards, {args.selects} SELECTs per client, {args.rounds} rounds")
    print(f"  one card alone:               {lone:8.0f} APDU/s")
    print(f"  each of {args.cards} at once (median):  {statistics.median(each):8.0f} APDU/s")
    print(f"  all {args.cards} at once, total:        {together:8.0f} APDU/s")
    print(f"  total / one alone:            {together / lone:8.2f}")


if __name__ == "__main__":
    main()
