"""Fixtures for tests through the real PC/SC stack: pcscd + vsmartcard's vpcd (pcsc-vpcd.md).

The session fixture ``pcsc_stack`` runs ``scripts/pcsc-stack.sh start``. When the stack cannot be
had, the tests skip locally and FAIL in CI (``CI=true``): CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "scripts" / "pcsc-stack.sh"
READER_0 = "Virtual PCD 00 00"
READER_1 = "Virtual PCD 00 01"
READY_TIMEOUT = 30.0  # seconds; a wait, not a timing assertion
CARD_TIMEOUT = 15.0
# Readers 0-7: the tests' own `mynacard serve` processes (eight at once in test_served_card);
# reader 9: the `mynacard_served` fixture's session server, which lives until the session ends.
STACK_READERS = 10
SERVED_FIXTURE_READER = 9


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


os.environ.setdefault("MYNACARD_SERVED_READER", str(SERVED_FIXTURE_READER))
if in_ci():  # the fixture fails, never skips, in the project's CI
    os.environ.setdefault("MYNACARD_PCSC_REQUIRED", "1")


def unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"the PC/SC stack is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PC/SC stack not available: {reason}")


def run_stack(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/pcsc-stack.sh <command> [args]``."""
    return subprocess.run(
        ["bash", str(STACK_SCRIPT), command, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},  # lists readers with our pyscard
        timeout=120,
        check=False,
    )


def start_stack(readers: int = STACK_READERS) -> None:
    """The stack with at least ``readers`` vpcd readers (a running one with more is kept)."""
    result = run_stack("start", "--readers", str(readers))
    if result.returncode != 0:
        unavailable(
            f"`scripts/pcsc-stack.sh start` failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )


@pytest.fixture(scope="session")
def pcsc_stack() -> None:
    """pcscd running with the vpcd readers listed."""
    try:
        import smartcard.System  # noqa: F401
    except ImportError as missing:
        unavailable(f"pyscard is not installed (pip install -e '.[pcsc]'): {missing}")
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        unavailable("pcscd is not installed (run: scripts/pcsc-stack.sh install)")
    start_stack()


# --- pyscard, used exactly as a client would ---------------------------------------------------


def find_reader(name: str) -> Any:
    from smartcard.System import readers

    for reader in readers():
        if str(reader) == name:
            return reader
    raise AssertionError(f"reader {name!r} not listed by pcscd: {[str(r) for r in readers()]}")


def connect(name: str, timeout: float = CARD_TIMEOUT) -> Any:
    """A pyscard connection to the card in reader ``name`` (waits for pcscd to see it)."""
    from smartcard.Exceptions import CardConnectionException, NoCardException

    deadline = time.monotonic() + timeout
    while True:
        connection = find_reader(name).createConnection()
        try:
            connection.connect()
            return connection
        except (NoCardException, CardConnectionException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def transmit(connection: Any, command: bytes | str) -> tuple[bytes, int]:
    """Send one APDU; return (data, SW)."""
    raw = bytes.fromhex(command) if isinstance(command, str) else command
    data, sw1, sw2 = connection.transmit(list(raw))
    return bytes(data), (sw1 << 8) | sw2


def card_present(name: str) -> bool:
    """Whether pcscd reports a card in reader ``name`` (SCardGetStatusChange, no connection)."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    try:
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(name, scard.SCARD_STATE_UNAWARE)]
        )
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        _reader, event_state, _atr = states[0]
        return bool(event_state & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


def wait_card(name: str, *, present: bool, timeout: float = CARD_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while card_present(name) is not present:
        if time.monotonic() > deadline:
            raise AssertionError(f"card in {name!r} still {'absent' if present else 'present'}")
        time.sleep(0.05)


# --- `mynacard serve` in a subprocess ----------------------------------------------------------


class CardServer:
    """``python -m card_emulator.cli serve ...`` with its ready line and stderr captured."""

    def __init__(self, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.stderr_path = log_dir / f"serve-{len(list(log_dir.glob('serve-*')))}.stderr"
        self.env = {**os.environ, **(env or {})}
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), self.env.get("PYTHONPATH", "")) if p
        )
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout_lines: list[str] = []

    def start(self) -> str:
        """Start the server and return its ready line."""
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "card_emulator.cli", "serve", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                cwd=REPO,
                env=self.env,
            )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            line = self.lines.get(timeout=READY_TIMEOUT)
        except queue.Empty:
            line = None
        if line is None:
            raise AssertionError(f"`mynacard serve` did not become ready:\n{self.stderr()}")
        return line

    def _read_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def send(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self) -> int:
        """SIGTERM, then the exit code."""
        self.send(signal.SIGTERM)
        assert self.process is not None
        return self.process.wait(timeout=READY_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL, as a crash would: the server leaves its control socket behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=READY_TIMEOUT)

    def end(self) -> None:
        """What a test left running: SIGTERM (the server removes its control socket), SIGKILL
        if it has not stopped within 5 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass(frozen=True, slots=True)
class ServerFactory:
    log_dir: Path
    servers: list[CardServer]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> CardServer:
        server = CardServer(list(args), self.log_dir, env)
        self.servers.append(server)
        return server


@pytest.fixture
def private_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Control sockets of this test's servers in a directory of its own (short: socket paths)."""
    folder = Path(tempfile.mkdtemp(prefix="mc-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def serve(pcsc_stack: None, tmp_path: Path) -> Iterator[ServerFactory]:
    """Make ``mynacard serve`` processes; every one left is stopped at the end of the test."""
    factory = ServerFactory(tmp_path, [])
    yield factory
    for server in factory.servers:
        server.end()
