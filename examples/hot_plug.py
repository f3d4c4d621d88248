#!/usr/bin/env python3
"""Watch a card being inserted and removed with pyscard's CardMonitor, through pcscd + vpcd.

Serves a TEST card with `mynacard serve`, then pulls it out (SIGUSR1) and puts it back (SIGUSR2) a
few times; a CardMonitor observer prints every insertion and removal pcscd reports. (The in-process
reader cannot do this: CardMonitor only sees PC/SC readers, pcsc-vpcd.md §4.)

    scripts/pcsc-stack.sh start
    .venv/bin/python examples/hot_plug.py [--reader 0] [--cycles 3] [--card PATH]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.util import toHexString

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 15.0  # seconds; pcscd notices a vpcd change in about 0.4 s (pcsc-vpcd.md §2)


class PrintingObserver(CardObserver):  # type: ignore[misc]  # pyscard ships no type hints
    """Prints the changes of one reader and lets the main thread wait for them."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.start = time.monotonic()
        self.inserted = threading.Event()
        self.removed = threading.Event()

    def update(self, observable: Any, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        stamp = f"{time.monotonic() - self.start:6.2f}s"
        for card in added:
            if card.reader == self.reader:
                print(f"{stamp} inserted into {card.reader}: ATR {toHexString(card.atr)}")
                self.inserted.set()
        for card in removed:
            if card.reader == self.reader:
                print(f"{stamp} removed from {card.reader}")
                self.removed.set()


def wait(event: threading.Event, what: str) -> None:
    if not event.wait(TIMEOUT):
        raise SystemExit(f"no {what} seen within {TIMEOUT:.0f} s")
    event.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", type=int, choices=(0, 1), default=0, help="vpcd reader")
    parser.add_argument("--cycles", type=int, default=3, help="removals and insertions")
    parser.add_argument("--card", type=Path, help="card file (default: a new TEST card)")
    args = parser.parse_args()
    reader = f"Virtual PCD 00 {args.reader:02d}"

    with tempfile.TemporaryDirectory(prefix="hot-plug-") as tmp:
        card_path = args.card
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        if card_path is None:
            card_path = Path(tmp) / "hot-plug.card"
            subprocess.run(
                [sys.executable, "-m", "card_emulator.cli", "init", str(card_path)],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
            )
        observer = PrintingObserver(reader)
        monitor = CardMonitor()
        monitor.addObserver(observer)
        argv = [sys.executable, "-m", "card_emulator.cli", "serve", str(card_path)]
        serve = subprocess.Popen(
            [*argv, "--reader", str(args.reader)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert serve.stdout is not None
            print(serve.stdout.readline().strip())  # "ready: serving …"
            wait(observer.inserted, "insertion")
            for _ in range(args.cycles):
                serve.send_signal(signal.SIGUSR1)  # take the card out
                wait(observer.removed, "removal")
                serve.send_signal(signal.SIGUSR2)  # put it back
                wait(observer.inserted, "insertion")
        finally:
            monitor.deleteObserver(observer)
            serve.terminate()
            serve.wait(timeout=10)


if __name__ == "__main__":
    main()
