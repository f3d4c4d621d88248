#!/usr/bin/env python3
"""Benchmark (not a test): in-process APDU cost of the emulator vs vsmartcard's vicc (issue 10).

The workload, the same bytes for every contender: in the JPKI AP, ``SELECT EF 000A`` (P2=0C, no
FCI) then ``READ BINARY`` of 256 bytes at offset 0 (Le=00), and SELECT EF alone. Contenders, each
called directly in this one process, no transport:

* ``ours``: ``Card.transmit`` on an in-memory card (seed 0);
* ``vicc``: vicc's ``Iso7816OS.execute`` from Debian's ``vsmartcard-vpicc`` package, over an MF with
  a DF named by the JPKI AID holding a transparent EF 000A with our EF's bytes;
* ``vicc-src`` (with ``--vicc-source DIR``): the same, from a checkout of vicc's current source
  (``DIR`` is the ``vpicc`` directory holding the ``virtualsmartcard`` package, or the repository).

Debian 12's package does not import as shipped (pcsc-vpcd.md §1): its package sits in
``/usr/lib/python3/site-packages/virtualsmartcard`` (not on any ``sys.path``) and it imports
``Crypto`` where Debian's python3-pycryptodome provides ``Cryptodome``. This script puts that
directory on ``sys.path`` and aliases ``Crypto`` to ``Cryptodome`` inside its own process; no system
file is changed. The two vicc copies share the package name ``virtualsmartcard``: each is imported,
its card built, then its modules are dropped from ``sys.modules`` so the next copy can load (a
built card keeps its own module globals).

Each round runs every contender once, the order rotating from round to round; a ratio is vicc's
time over ours within one round (same load), and the rounds give the median and the spread.
``--callgrind`` adds instruction counts per iteration (load-independent): each contender runs under
``valgrind --tool=callgrind`` twice, with two iteration counts, and the difference is divided by the
difference of counts, so start-up and set-up cancel out.

    .venv/bin/python benchmarks/bench_inprocess.py [--rounds 9] [--iterations 3000]
        [--vicc-source DIR] [--callgrind]

Output: the load average before and after, a table, and one ``summary:`` line with the ratios.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEBIAN_VICC = Path("/usr/lib/python3/site-packages/virtualsmartcard")  # holds `virtualsmartcard/`
DEBIAN_DIST = Path("/usr/lib/python3/dist-packages")  # python3-pycryptodome's `Cryptodome/`
JPKI_AID = bytes.fromhex("D392F000260100000001")
SELECT_AP = bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID)]) + JPKI_AID
EF = 0x000A  # the user-authentication certificate: free to read, longer than 256 bytes
SELECT_EF = bytes.fromhex("00A4020C02") + EF.to_bytes(2, "big")
READ_256 = bytes.fromhex("00B0000000")
WORKLOADS: dict[str, tuple[bytes, ...]] = {
    "select_read": (SELECT_EF, READ_256),  # the row of issue 10
    "select": (SELECT_EF,),
}

Transmit = Callable[[bytes], bytes]


# --- contenders ---------------------------------------------------------------------------------


def our_card() -> tuple[Transmit, bytes]:
    """Our in-memory card with the JPKI AP selected, and the bytes of its EF 000A."""
    from card_emulator import Card

    transmit = Card.create(None, seed=0).transmit
    assert transmit(SELECT_AP) == b"\x90\x00"
    return transmit, our_content(transmit)


def our_content(transmit: Transmit) -> bytes:
    """EF 000A whole, in the 256-byte chunks a client reads."""
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
        raise SystemExit(f"bench_inprocess: no vicc in {source} (install vsmartcard-vpicc)")
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
    """Accept the vpicc directory itself or a checkout of the vsmartcard repository."""
    for candidate in (path, path / "virtualsmartcard" / "src" / "vpicc"):
        if (candidate / "virtualsmartcard" / "VirtualSmartcard.py").is_file():
            return candidate
    raise SystemExit(f"bench_inprocess: {path} holds no virtualsmartcard package")


def contenders(vicc_source: Path | None) -> dict[str, Transmit]:
    """Every contender, checked to give the same answers to the workload."""
    ours, content = our_card()
    cards = {"ours": ours, "vicc": vicc_card(DEBIAN_VICC, content)}
    if vicc_source is not None:
        cards["vicc-src"] = vicc_card(vicc_source_dir(vicc_source), content)
    for name, transmit in cards.items():
        answers = [transmit(apdu) for apdu in (SELECT_EF, READ_256)]
        if answers != [b"\x90\x00", content[:256] + b"\x90\x00"]:
            raise SystemExit(f"bench_inprocess: {name} answers the workload differently")
    return cards


# --- timing -------------------------------------------------------------------------------------


def run(transmit: Transmit, apdus: tuple[bytes, ...], iterations: int) -> float:
    """Seconds per iteration of the workload (every APDU once)."""
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


def measure(
    cards: dict[str, Transmit], apdus: tuple[bytes, ...], rounds: int, iterations: int
) -> dict[str, list[float]]:
    """Per contender, seconds per iteration in each round; every round runs all, order rotating.

    vicc is ~20x slower: it runs iterations // 10 (at least 100) per round so rounds stay short.
    """
    names = list(cards)
    times: dict[str, list[float]] = {name: [] for name in names}
    for transmit in cards.values():
        run(transmit, apdus, 50)  # warm-up
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            n = iterations if name == "ours" else max(100, iterations // 10)
            times[name].append(run(cards[name], apdus, n))
    return times


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


# --- callgrind ----------------------------------------------------------------------------------


def _count_child(contender: str, workload: str, iterations: int, card: str, content: str) -> None:
    """Child of --callgrind: build one contender from files, run the workload ``iterations`` times."""
    if contender == "ours":
        from card_emulator import Card

        transmit: Transmit = Card.open(card).transmit
        transmit(SELECT_AP)
    else:
        source = DEBIAN_VICC if contender == "vicc" else vicc_source_dir(Path(contender[5:]))
        transmit = vicc_card(source, Path(content).read_bytes())
    run(transmit, WORKLOADS[workload], iterations)


def callgrind(
    names: list[str], vicc_source: Path | None, iterations: int
) -> dict[tuple[str, str], float]:
    """Instructions per workload iteration, per (contender, workload)."""
    from card_emulator import Card

    counts: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        card_path, content_path = Path(tmp, "card.myna"), Path(tmp, "ef000a.bin")
        with Card.create(card_path, seed=0) as card:
            card.transmit(SELECT_AP)
            content_path.write_bytes(our_content(card.transmit))
        for name in names:
            arg = name if name != "vicc-src" else f"vicc:{vicc_source}"
            for workload in WORKLOADS:
                totals = []
                for n in (iterations // 2, iterations):
                    out = Path(tmp, f"cg.{name}.{workload}.{n}")
                    command = [
                        "valgrind",
                        "--tool=callgrind",
                        f"--callgrind-out-file={out}",
                        sys.executable,
                        __file__,
                        "--count-child",
                        arg,
                        workload,
                        str(n),
                        str(card_path),
                        str(content_path),
                    ]
                    env = dict(os.environ, PYTHONHASHSEED="0")
                    subprocess.run(command, check=True, capture_output=True, env=env)
                    totals.append(_callgrind_total(out))
                counts[(name, workload)] = (totals[1] - totals[0]) / (iterations - iterations // 2)
    return counts


def _callgrind_total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"bench_inprocess: no totals in {path}")


# --- report -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--count-child"]:
        _count_child(*args[1:3], int(args[3]), *args[4:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--iterations", type=int, default=3000, help="per round, for ours")
    parser.add_argument("--vicc-source", type=Path, help="a checkout of vicc's current source")
    parser.add_argument("--callgrind", action="store_true", help="also count instructions")
    options = parser.parse_args(args)

    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average before: {loadavg()}")
    cards = contenders(options.vicc_source)
    vicc_names = [name for name in cards if name != "ours"]
    rows: list[tuple[str, str, str, str]] = []
    summary: list[str] = []
    for workload, apdus in WORKLOADS.items():
        times = measure(cards, apdus, options.rounds, options.iterations)
        for name in cards:
            rows.append((workload, name, _us(times[name]), ""))
        for name in vicc_names:
            ratios = [v / o for v, o in zip(times[name], times["ours"], strict=True)]
            spread = f"{min(ratios):.1f}-{max(ratios):.1f}"
            ratio = statistics.median(ratios)
            rows.append((workload, f"{name} / ours", f"{ratio:.1f}x", spread))
            summary.append(f"{workload} vs {name} {ratio:.1f}x [{spread}]")
    print(f"load average after:  {loadavg()}")
    print(f"{options.rounds} rounds, {options.iterations} iterations of ours per round")
    print(f"{'workload':<12} {'contender':<16} {'median per iteration':>22} {'spread':>12}")
    for workload, name, value, spread in rows:
        print(f"{workload:<12} {name:<16} {value:>22} {spread:>12}")
    if options.callgrind:
        counts = callgrind(list(cards), options.vicc_source, 2000)
        print("instructions per iteration (callgrind):")
        for (name, workload), count in sorted(counts.items(), key=lambda item: item[0][1]):
            ratio = count / counts[("ours", workload)]
            print(
                f"  {workload:<12} {name:<10} {count:>12,.0f}"
                + (f"  {ratio:.1f}x ours" if name != "ours" else "")
            )
            if name != "ours":
                summary.append(f"{workload} vs {name} {ratio:.1f}x instructions")
    print("summary: in-process " + "; ".join(summary))


def _us(samples: list[float]) -> str:
    median = statistics.median(samples) * 1e6
    return f"{median:.2f} µs ({min(samples) * 1e6:.2f}-{max(samples) * 1e6:.2f})"


if __name__ == "__main__":
    main()
