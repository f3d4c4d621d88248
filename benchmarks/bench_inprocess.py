#!/usr/bin/env python3
"""Benchmark (not a test): the in-process cost of an APDU, the emulator vs vsmartcard's vicc.

The workload, the same bytes to every contender, all called directly in this one process (no
transport): in the JPKI AP, ``SELECT EF 000A`` (P2=0C, no FCI) then ``READ BINARY`` of 256 bytes
at offset 0 (Le=00); and SELECT EF alone. Contenders:

* ours: ``Card.transmit`` on an in-memory card (seed 0);
* vicc: ``Iso7816OS.execute`` of Debian's ``vsmartcard-vpicc`` (installed by scripts/setup.sh),
  over an MF holding a DF named by the JPKI AID, holding a transparent EF 000A with our EF's bytes;
* vicc-src, with ``--vicc-source DIR`` (or ``VICC_SOURCE=DIR``): the same from a checkout of vicc's
  current source (the repository, or its ``virtualsmartcard/src/vpicc``). Nothing of it is copied
  here; it runs beside the project.

Debian 12's package does not import as shipped (pcsc-vpcd.md §1): its package directory,
``/usr/lib/python3/site-packages/virtualsmartcard``, is on no ``sys.path``, and it imports ``Crypto``
where Debian's python3-pycryptodome is ``Cryptodome``. This script puts that directory on its own
``sys.path`` and answers ``Crypto`` imports with ``Cryptodome`` in its own process; no system file
changes. Both vicc copies are the package ``virtualsmartcard``: each is imported, its card built,
then its modules leave ``sys.modules`` so the next copy can load (a built card keeps its globals).

The cases run interleaved (benchlib: rotating order, ratios round by round). ``--callgrind`` adds
instruction counts, a figure the machine's load cannot move: each contender runs under
``valgrind --tool=callgrind`` with two iteration counts, and the difference of the totals over the
difference of the counts leaves the work of one iteration (start-up and set-up cancel out).

    .venv/bin/python benchmarks/bench_inprocess.py [--rounds 9] [--vicc-source DIR] [--callgrind]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from benchlib import Bench, Case, fmt_time

DEBIAN_VICC = Path("/usr/lib/python3/site-packages/virtualsmartcard")  # holds `virtualsmartcard/`
DEBIAN_DIST = Path("/usr/lib/python3/dist-packages")  # python3-pycryptodome's `Cryptodome/`
JPKI_AID = bytes.fromhex("D392F000260100000001")
SELECT_AP = bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID)]) + JPKI_AID
EF = 0x000A  # the user-authentication certificate: free to read, longer than 256 bytes
SELECT_EF = bytes.fromhex("00A4020C02") + EF.to_bytes(2, "big")
READ_256 = bytes.fromhex("00B0000000")
WORKLOADS: dict[str, tuple[bytes, ...]] = {
    "SELECT EF + READ BINARY 256 B": (SELECT_EF, READ_256),  # the row of issue 10
    "SELECT EF": (SELECT_EF,),
}
# Iterations per sample: about 15-25 ms each on the project's machine.
ITERATIONS = {"ours": 3000, "vicc": 100, "vicc-src": 150}
CALLGRIND_ITERATIONS = (1000, 3000)

Transmit = Callable[[bytes], bytes]


# --- the contenders -----------------------------------------------------------------------------


def our_card() -> tuple[Transmit, bytes]:
    """Our in-memory card with the JPKI AP selected, and the bytes of its EF 000A."""
    from card_emulator import Card

    transmit = Card.create(None, seed=0).transmit
    assert transmit(SELECT_AP) == b"\x90\x00"
    return transmit, our_content(transmit)


def our_content(transmit: Transmit) -> bytes:
    """EF 000A whole, read in the 256-byte chunks a client reads."""
    assert transmit(SELECT_EF) == b"\x90\x00"
    content = b""
    while True:
        answer = transmit(b"\x00\xb0" + len(content).to_bytes(2, "big") + b"\x00")
        content += answer[:-2]
        if len(answer) < 258:
            return content


class _CryptoAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of ``Crypto`` and ``Crypto.x`` answered with ``Cryptodome`` and ``Cryptodome.x``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "Crypto" or fullname.startswith("Crypto."):
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module("Cryptodome" + spec.name[len("Crypto") :])

    def exec_module(self, module: ModuleType) -> None:
        pass


def _import_debian_cryptodome() -> None:
    """Debian's python3-pycryptodome, imported from its directory alone (not all dist-packages)."""
    if "Cryptodome" in sys.modules:
        return
    spec = importlib.machinery.PathFinder.find_spec("Cryptodome", [str(DEBIAN_DIST)])
    if spec is None or spec.loader is None:
        raise SystemExit(f"bench_inprocess: no Cryptodome in {DEBIAN_DIST} (scripts/setup.sh)")
    module = importlib.util.module_from_spec(spec)
    sys.modules["Cryptodome"] = module
    spec.loader.exec_module(module)


def vicc_card(source: Path, content: bytes) -> Transmit:
    """vicc's ISO 7816 OS from ``source`` over MF / DF(JPKI AID) / EF 000A(content), AP selected."""
    if not (source / "virtualsmartcard" / "VirtualSmartcard.py").is_file():
        raise SystemExit(f"bench_inprocess: no vicc in {source} (scripts/setup.sh installs it)")
    _import_debian_cryptodome()
    if not any(isinstance(finder, _CryptoAlias) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CryptoAlias())
    sys.path.insert(0, str(source))
    try:
        vs = importlib.import_module("virtualsmartcard.VirtualSmartcard")
        fs = importlib.import_module("virtualsmartcard.SmartcardFilesystem")
        sam = importlib.import_module("virtualsmartcard.SmartcardSAM")
        mf = fs.MF()
        df = fs.DF(mf, 0x1000, dfname=JPKI_AID)
        mf.append(df)
        df.append(fs.TransparentStructureEF(df, EF, data=content))
        card = vs.Iso7816OS(mf, sam.SAM("1234", "0000000000", mf))
    finally:
        sys.path.remove(str(source))
        for name in [n for n in sys.modules if n.split(".")[0] == "virtualsmartcard"]:
            del sys.modules[name]  # room for another copy; `card` keeps its own globals
    execute: Transmit = card.execute
    assert execute(SELECT_AP) == b"\x90\x00"
    return execute


def vicc_source_dir(path: Path) -> Path:
    """The directory holding the ``virtualsmartcard`` package: ``path`` or its vpicc directory."""
    for candidate in (path, path / "virtualsmartcard" / "src" / "vpicc"):
        if (candidate / "virtualsmartcard" / "VirtualSmartcard.py").is_file():
            return candidate
    raise SystemExit(f"bench_inprocess: {path} holds no virtualsmartcard package")


def contenders(vicc_source: Path | None) -> dict[str, Transmit]:
    """Every contender, each checked to give the same answers to the workload."""
    ours, content = our_card()
    cards = {"ours": ours, "vicc": vicc_card(DEBIAN_VICC, content)}
    if vicc_source is not None:
        cards["vicc-src"] = vicc_card(vicc_source_dir(vicc_source), content)
    for name, transmit in cards.items():
        answers = [transmit(SELECT_EF), transmit(READ_256)]
        if answers != [b"\x90\x00", content[:256] + b"\x90\x00"]:
            raise SystemExit(f"bench_inprocess: {name} answers the workload differently")
    return cards


def run(transmit: Transmit, apdus: tuple[bytes, ...], iterations: int) -> float:
    """Seconds per iteration of the workload (each APDU once), in a loop with nothing else."""
    loop = range(iterations)
    if len(apdus) == 1:
        (a,) = apdus
        start = time.perf_counter()
        for _ in loop:
            transmit(a)
    else:
        a, b = apdus
        start = time.perf_counter()
        for _ in loop:
            transmit(a)
            transmit(b)
    return (time.perf_counter() - start) / iterations


def sampler(transmit: Transmit, apdus: tuple[bytes, ...], iterations: int) -> Callable[[], float]:
    return lambda: run(transmit, apdus, iterations)


# --- instruction counts -------------------------------------------------------------------------


def _count_child(contender: str, workload: str, iterations: str, card: str, content: str) -> None:
    """Child of --callgrind: one contender built from files, the workload run ``iterations`` times."""
    if contender == "ours":
        from card_emulator import Card

        transmit: Transmit = Card.open(card).transmit
        transmit(SELECT_AP)
    else:
        source = DEBIAN_VICC if contender == "vicc" else vicc_source_dir(Path(contender))
        transmit = vicc_card(source, Path(content).read_bytes())
    run(transmit, WORKLOADS[workload], int(iterations))


def callgrind(names: list[str], vicc_source: Path | None) -> dict[tuple[str, str], float]:
    """Instructions per workload iteration, by (contender, workload)."""
    from card_emulator import Card

    low, high = CALLGRIND_ITERATIONS
    counts: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        card_path, content_path = Path(tmp, "card.myna"), Path(tmp, "ef000a.bin")
        with Card.create(card_path, seed=0) as card:
            card.transmit(SELECT_AP)
            content_path.write_bytes(our_content(card.transmit))
        for name in names:
            contender = str(vicc_source) if name == "vicc-src" else name
            for workload in WORKLOADS:
                totals = []
                for n in (low, high):
                    out = Path(tmp, "callgrind.out")
                    command = [
                        *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
                        *(sys.executable, __file__, "--count-child", contender, workload),
                        *(str(n), str(card_path), str(content_path)),
                    ]
                    env = dict(os.environ, PYTHONHASHSEED="0")
                    subprocess.run(command, check=True, capture_output=True, env=env)
                    totals.append(_callgrind_total(out))
                counts[(name, workload)] = (totals[1] - totals[0]) / (high - low)
    return counts


def _callgrind_total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"bench_inprocess: no instruction total in {path}")


# --- the run ------------------------------------------------------------------------------------


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vicc-source",
        type=Path,
        default=os.environ.get("VICC_SOURCE") or None,
        help="a checkout of vicc's current source, measured too (default: $VICC_SOURCE)",
    )
    parser.add_argument(
        "--callgrind", action="store_true", help="also count instructions (valgrind, ~4 min)"
    )


def main() -> None:
    if sys.argv[1:2] == ["--count-child"]:
        _count_child(*sys.argv[2:7])
        return
    bench = Bench(
        "bench_inprocess", "in-process APDUs, the emulator vs vicc's ISO 7816 OS", options=_options
    )
    source: Path | None = bench.args.vicc_source
    cards = contenders(source)
    bench.run(
        [
            Case(f"{workload}: {name}", sampler(transmit, apdus, ITERATIONS[name]))
            for workload, apdus in WORKLOADS.items()
            for name, transmit in cards.items()
        ]
    )
    pair, select = WORKLOADS
    ratios = {
        (name, workload): bench.ratio(f"{workload}: {name}", f"{workload}: ours")
        for workload in WORKLOADS
        for name in cards
        if name != "ours"
    }
    main_ratio = ratios[("vicc", pair)]
    measured = (
        f"{main_ratio.median:.1f}× ({main_ratio.low:.1f}–{main_ratio.high:.1f}); "
        f"SELECT alone {ratios[('vicc', select)].median:.1f}×"
    )
    if source is not None:
        measured += (
            f"; vicc's current source {ratios[('vicc-src', pair)].median:.1f}× "
            f"(SELECT {ratios[('vicc-src', select)].median:.1f}×)"
        )
    values = {f"{name} {workload}": stats.median for (name, workload), stats in ratios.items()}
    if bench.args.callgrind:
        counts = callgrind(list(cards), source)
        for (name, workload), count in counts.items():
            print(f"   instructions per iteration, {workload}: {name}: {count:,.0f}")
        instruction_ratios = [
            f"{name} {counts[(name, pair)] / counts[('ours', pair)]:.1f}× "
            f"(SELECT {counts[(name, select)] / counts[('ours', select)]:.1f}×)"
            for name in cards
            if name != "ours"
        ]
        measured += "; instructions (callgrind): " + ", ".join(instruction_ratios)
        values |= {f"instructions {name} {workload}": n for (name, workload), n in counts.items()}
    ours = bench.median(f"{pair}: ours").median
    vicc = bench.median(f"{pair}: vicc").median
    bench.summary(
        "in-process SELECT EF + READ BINARY 256 B vs vsmartcard's vicc `Iso7816OS.execute` "
        "(Debian's `vsmartcard-vpicc`)",
        measured,
        goal="≥ 25×",
        pair=f"ours {fmt_time(ours)}, vicc {fmt_time(vicc)} a SELECT + READ",
        **values,
    )
    bench.finish()


if __name__ == "__main__":
    main()
