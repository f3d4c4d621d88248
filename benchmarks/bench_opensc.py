#!/usr/bin/env python3
"""Benchmark (not a test): OpenSC's tools, whole processes, against the served card and the floor.

``pkcs15-tool --list-certificates`` and ``pkcs11-tool`` logging in and signing (SHA256-RSA-PKCS
with the user-authentication key) are timed as whole processes, interleaved, against:
  * served (reader 0): ``mynacard serve`` with a TEST card file (seed 11);
  * the floor (readers 1 and 2, one per tool): the least a card can do over the same vpcd
    protocol (benchmarks/pcsclib.py), replaying, command for command, what the served card
    answered to the same tool (recorded first, in a run that is not timed).
The ratio is served over floor (1.0 = the card costs nothing). Each tool sees only its reader
(OpenSC's ``ignored_readers``) and OpenSC's file cache is off; every run's output is checked
(the certificates listed, the signature bytes) so that a floor run that went astray is not timed.

Needs OpenSC (``opensc``, ``opensc-pkcs11``), the PC/SC stack (started with 3 readers if it is not
running) and readers 0-2 free; on the shared machine, under the lock:
    flock /tmp/mynacard-pcsc.lock .venv/bin/python benchmarks/bench_opensc.py [--rounds 21]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pcsclib
from benchlib import REPO, Bench, Case, fmt_time

sys.path.insert(0, str(REPO))

SERVED, FLOOR_PKCS15, FLOOR_PKCS11 = 0, 1, 2  # readers
PKCS11_MODULES = (  # where Debian's opensc-pkcs11 puts it
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/opensc-pkcs11.so",
)
AUTH_TOKEN = "JPKI (User Authentication PIN)"
MAX_READERS = 16


def opensc_home(folder: Path, reader: int) -> dict[str, str]:
    """The environment of a tool that sees vpcd reader ``reader`` only; no file cache."""
    home = folder / f"opensc-{reader}"
    home.mkdir()
    others = [pcsclib.reader_name(k) for k in range(MAX_READERS) if k != reader]
    conf = home / "opensc.conf"
    conf.write_text(
        "app default {\n"
        f"    ignored_readers = {', '.join(f'{name!r}'.replace(chr(39), chr(34)) for name in others)};\n"
        "    framework pkcs15 {\n        use_file_caching = false;\n    }\n}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSC_")}
    env.update(OPENSC_CONF=str(conf), HOME=str(home))
    return env


def tool_runner(
    argv: list[str], env: dict[str, str], check: Callable[[str], str]
) -> Callable[[], tuple[float, str]]:
    """Run ``argv`` once: (seconds, what ``check`` makes of its output). SystemExit on failure."""

    def run() -> tuple[float, str]:
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"bench: {argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return elapsed, check(done.stdout)

    return run


def main() -> None:
    bench = Bench(
        "bench_opensc",
        "OpenSC's pkcs15-tool and pkcs11-tool, whole processes: served card vs the floor",
        rounds=21,
    )
    from card_emulator import Card
    from card_emulator.rules import PinName

    module = next((m for m in PKCS11_MODULES if Path(m).exists()), None)
    if shutil.which("pkcs15-tool") is None or shutil.which("pkcs11-tool") is None or not module:
        raise SystemExit("bench: OpenSC is not installed (scripts/pcsc-stack.sh install)")
    pcsclib.start_stack(3)
    pcsclib.check_free([SERVED, FLOOR_PKCS15, FLOOR_PKCS11])
    with tempfile.TemporaryDirectory(prefix="bench-opensc-") as name, ExitStack() as stack:
        folder = Path(name)
        card_path = folder / "bench.card"
        with Card.create(card_path, seed=11) as card:  # a TEST card
            pin = (card.created_pins or {})[PinName.USER_AUTH]
        message = folder / "message.txt"
        message.write_bytes(b"JPKI TEST message for the benchmark")
        signature = folder / "signature.bin"

        def pkcs15(reader: int) -> list[str]:
            del reader
            return ["pkcs15-tool", "--list-certificates"]

        def pkcs11(reader: int) -> list[str]:
            del reader
            return [
                "pkcs11-tool", "--module", module, "--token-label", AUTH_TOKEN, "--login",
                "--pin", "env:JPKI_TEST_PIN", "--sign", "--id", "01", "--mechanism",
                "SHA256-RSA-PKCS", "--input-file", str(message), "--output-file", str(signature),
            ]  # fmt: skip

        def listing(out: str) -> str:  # the certificates, not the reader's name
            return "\n".join(line for line in out.splitlines() if "reader" not in line.lower())

        def signed(_out: str) -> str:
            return signature.read_bytes().hex()

        envs = {k: opensc_home(folder, k) for k in (SERVED, FLOOR_PKCS15, FLOOR_PKCS11)}
        for env in envs.values():
            env["JPKI_TEST_PIN"] = pin  # the TEST card's PIN, in the environment, never argv

        # 1. What the card answers to each tool, recorded (not timed).
        expected: dict[str, str] = {}
        transcripts: dict[str, Path] = {}
        with Card.open(card_path) as card, pcsclib.recording_card(SERVED, card) as recorder:
            for tool, argv, check in (("pkcs15", pkcs15, listing), ("pkcs11", pkcs11, signed)):
                start = len(recorder.exchanges)
                _, expected[tool] = tool_runner(argv(SERVED), envs[SERVED], check)()
                transcripts[tool] = folder / f"{tool}.json"
                pcsclib.write_transcript(transcripts[tool], card.atr, recorder.exchanges[start:])
        # 2. The served card and one floor per tool, each in its own reader.
        stack.enter_context(pcsclib.served_card(SERVED, card_path))
        stack.enter_context(pcsclib.bench_card("floor", FLOOR_PKCS15, transcripts["pkcs15"]))
        stack.enter_context(pcsclib.bench_card("floor", FLOOR_PKCS11, transcripts["pkcs11"]))
        cases = []
        for tool, argv, check, floor in (
            ("pkcs15-tool --list-certificates", pkcs15, listing, FLOOR_PKCS15),
            ("pkcs11-tool login + sign", pkcs11, signed, FLOOR_PKCS11),
        ):
            key = tool.split("-")[0]
            for label, reader in (("served", SERVED), ("floor", floor)):
                run = tool_runner(argv(reader), envs[reader], check)
                cases.append(Case(f"{tool}: {label}", checked(run, expected[key], label)))
        bench.run(cases)

    pkcs15_ratio = bench.ratio(
        "pkcs15-tool --list-certificates: served", "pkcs15-tool --list-certificates: floor"
    )
    pkcs11_ratio = bench.ratio(
        "pkcs11-tool login + sign: served", "pkcs11-tool login + sign: floor"
    )
    bench.summary(
        "`pkcs15-tool --list-certificates` / `pkcs11-tool` login + sign vs the floor for the same "
        "APDUs (whole processes)",
        f"{pkcs15_ratio.median:.2f}× ({pkcs15_ratio.low:.2f}–{pkcs15_ratio.high:.2f}) / "
        f"{pkcs11_ratio.median:.2f}× ({pkcs11_ratio.low:.2f}–{pkcs11_ratio.high:.2f})",
        goal="≤ 1.1×",
        pair=f"floor: pkcs15-tool {fmt_time(bench.median('pkcs15-tool --list-certificates: floor').median)}"
        f", pkcs11-tool {fmt_time(bench.median('pkcs11-tool login + sign: floor').median)}",
        pkcs15=pkcs15_ratio.median,
        pkcs11=pkcs11_ratio.median,
    )
    bench.finish()


def checked(run: Callable[[], tuple[float, str]], expected: str, label: str) -> Callable[[], float]:
    def sample() -> float:
        elapsed, outcome = run()
        if outcome != expected:
            raise SystemExit(f"bench: the {label} card's run differs from the recorded one")
        return elapsed

    return sample


if __name__ == "__main__":
    main()
