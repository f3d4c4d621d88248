"""The ``mynacard_served`` fixture: the test's card served through the real pcscd + vpcd.

One ``mynacard serve`` process for the whole session, on one vpcd reader; between tests the card is
put back through the served card's control channel (``card_emulator.transport.control``): a test that
asks for the same card as the one before gets it restored from a snapshot in milliseconds, another
card (``@pytest.mark.mynacard(...)``) is swapped in. The fixture yields the PC/SC reader name (a
``str``), with the card file, its PINs and a control client as attributes.

The stack is not started here: pcscd with vsmartcard's vpcd must run (the project's
``scripts/pcsc-stack.sh start``). When it does not, the test skips, with the reason — unless
``MYNACARD_PCSC_REQUIRED=1`` (the project's CI), where it fails. ``MYNACARD_SERVED_READER=K`` picks
the vpcd reader (default 0: ``Virtual PCD 00 00``, TCP 35963); under pytest-xdist, worker ``gwN``
uses reader K+N (``scripts/pcsc-stack.sh start --readers N`` must provide them).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

# The card, its files and the control channel load when a test asks for the fixture, not when
# pytest loads the plugin (issue 10: every pytest process, each xdist worker, pays for imports).
if TYPE_CHECKING:
    from card_emulator.rules import PinName
    from card_emulator.testing.factory import CardSpec
    from card_emulator.transport.control import ControlClient

__all__ = ["ServedReader", "mynacard_served"]

READY_TIMEOUT = 30.0  # seconds for pcscd to take the card at the session's start


class ServedReader(str):
    """The PC/SC reader name of the served card (use it as a ``str``), and what a test needs:

    ``card_path`` (the card file being served), ``pins`` (its initial TEST PINs by ``PinName``:
    the values tries and locks were applied to), ``control`` (a ``ControlClient``: ``call("status")``,
    ``call("remove")``, ``call("fault", fault={...})``, ... as in docs/control-protocol.md),
    ``trace_path`` (this test's trace of the served card, docs/trace-format.md; complete after the
    test).
    """

    card_path: Path
    pins: dict[PinName, str]
    control: ControlClient
    trace_path: Path

    def __new__(
        cls,
        name: str,
        card_path: Path,
        pins: Mapping[PinName, str],
        control: ControlClient,
        trace_path: Path,
    ) -> ServedReader:
        reader = super().__new__(cls, name)
        reader.card_path = card_path
        reader.pins = dict(pins)
        reader.control = control
        reader.trace_path = trace_path
        return reader


def _required() -> bool:
    return os.environ.get("MYNACARD_PCSC_REQUIRED", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> NoReturn:
    if _required():
        pytest.fail(f"mynacard_served: the PC/SC stack is required here: {reason}", pytrace=False)
    pytest.skip(f"mynacard_served: PC/SC stack not available: {reason}")


def _port_listens(port: int) -> bool:
    """From /proc/net/tcp (never a TCP probe: vpcd would take it for a card)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                return True
    return False


def _xdist_worker() -> int:
    """N for pytest-xdist's worker ``gwN`` (0 without xdist): each worker serves its own card in
    reader K+N, one serve process per reader (a second one on the same reader would be refused)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


class _Session:
    """The session's serve process and the card it holds now."""

    def __init__(self, reader: int, folder: Path) -> None:
        self.reader = reader
        self.folder = folder
        self.templates: dict[tuple[CardSpec, tuple[tuple[str, int], ...]], Path] = {}
        self.pins: dict[Path, dict[PinName, str]] = {}
        self.serving: tuple[Any, ...] | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.control: ControlClient | None = None
        self.count = 0

    def file_for(self, spec: CardSpec, tries: Mapping[str, int]) -> Path:
        """A fresh copy of the spec's template card file (made once per session)."""
        from card_emulator.testing.factory import apply_tries

        key = (spec, tuple(sorted(tries.items())))
        template = self.templates.get(key)
        if template is None:
            template = self.folder / f"template-{len(self.templates)}.card"
            with spec.create(template) as card:
                apply_tries(card, {k: v for k, v in tries.items()})
                self.pins[template] = dict(card.created_pins or {})
            self.templates[key] = template
        self.count += 1
        copy = self.folder / f"test-{self.count}.card"
        shutil.copyfile(template, copy)
        self.pins[copy] = self.pins[template]
        return copy

    def start(self, path: Path) -> ControlClient:
        from card_emulator.transport.control import connect_reader
        from card_emulator.transport.vpcd_wire import port_for_reader, reader_name

        port = port_for_reader(self.reader)
        if not _port_listens(port):
            _unavailable(
                f"nothing listens on 127.0.0.1:{port} ({reader_name(self.reader)}): start pcscd "
                "with vpcd (scripts/pcsc-stack.sh start), or set MYNACARD_SERVED_READER"
            )
        ready = self.folder / "ready"
        log = (self.folder / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "card_emulator.cli", "serve", str(path), "--reader",
             str(self.reader), "--ready-file", str(ready), "--timeout", str(READY_TIMEOUT)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT + 5
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                why = (self.folder / "serve.log").read_text(errors="replace").strip()
                _unavailable(f"`mynacard serve --reader {self.reader}` did not start: {why}")
            time.sleep(0.02)
        self.control = connect_reader(port)
        return self.control

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def _mynacard_served_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[_Session]:
    try:
        import smartcard  # noqa: F401  (the client side the tests will use)
    except ImportError as missing:
        _unavailable(f"pyscard is not installed (the `pcsc` extra): {missing}")
    reader = int(os.environ.get("MYNACARD_SERVED_READER", "0")) + _xdist_worker()
    # Short: the control sockets live under it (Unix socket paths are limited to 107 bytes).
    runtime = Path(tempfile.mkdtemp(prefix="mcs-"))
    previous = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    session = _Session(reader, tmp_path_factory.mktemp("mynacard-served"))
    try:
        yield session
    finally:
        session.stop()
        if previous is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = previous
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def mynacard_served(
    request: pytest.FixtureRequest, _mynacard_served_session: _Session
) -> Iterator[ServedReader]:
    """The test's card served through pcscd + vpcd; yields the PC/SC reader name.

    ``@pytest.mark.mynacard(seed=..., variant=..., holder=..., pins=..., tries=..., locked=...,
    issued=..., persona=..., max_tries=...)`` configures the card as for the ``mynacard`` fixture. Every test gets
    it fresh: restored from a snapshot when the previous test had the same card, swapped in
    otherwise; inserted, without faults, and traced into ``reader.trace_path``. Skips (or fails,
    with ``MYNACARD_PCSC_REQUIRED=1``) when pcscd with vpcd is not running.
    """
    from card_emulator.pin_names import parse_pin_name
    from card_emulator.testing.factory import CardSpec
    from card_emulator.transport.control import ControlError
    from card_emulator.transport.vpcd_wire import reader_name

    marker = request.node.get_closest_marker("mynacard")
    keywords = dict(marker.kwargs) if marker is not None else {}
    tries = {parse_pin_name(k).value: v for k, v in dict(keywords.pop("tries", None) or {}).items()}
    for name in keywords.pop("locked", ()) or ():
        tries[parse_pin_name(name).value] = 0
    if "seed" not in keywords and "persona" not in keywords:
        keywords["seed"] = int(str(request.config.getini("mynacard_seed")) or 0)
    try:
        spec = CardSpec.of(**keywords)
    except (TypeError, ValueError) as error:
        raise pytest.UsageError(f"@pytest.mark.mynacard: {error}") from None
    session = _mynacard_served_session
    key = (spec, tuple(sorted(tries.items())))
    try:
        if session.control is None or (session.process and session.process.poll() is not None):
            session.stop()
            control = session.start(session.file_for(spec, tries))
            control.call("snapshot")
            session.serving = key
        else:
            control = session.control
            control.call("clear")
            if session.serving == key:
                control.call("restore")
            else:
                control.call("swap", path=str(session.file_for(spec, tries)), timeout=READY_TIMEOUT)
                control.call("snapshot")
                session.serving = key
            status = control.call("status")
            if not status["inserted"] or status["state"] != "ready":
                control.call("insert", timeout=READY_TIMEOUT)
        card = Path(control.call("status")["card"])
        # One file per test (not per card): a later test on the same card must not overwrite it.
        test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")[-120:]
        trace = session.folder / f"{test_name}.trace.jsonl"
        control.call("trace_start", path=str(trace))
    except ControlError as error:
        pytest.fail(f"mynacard_served: the serve process refused: {error}", pytrace=False)
    from card_emulator.testing.plugin import SERVED_TRACES

    label = f"served card {reader_name(session.reader)} ({card.name})"
    request.node.stash.setdefault(SERVED_TRACES, []).append((label, trace))
    yield ServedReader(
        reader_name(session.reader), card, session.pins.get(card, {}), control, trace
    )
    with contextlib.suppress(ControlError):
        control.call("trace_stop")
