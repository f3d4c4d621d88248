"""``mynacard serve``: put a card file into a vpcd reader of the real PC/SC stack (pcsc-vpcd.md)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from card_emulator.cli.app import app
from card_emulator.cli.card_cmds import holder_dict, show_created_card
from card_emulator.cli.teach_util import SeedOption
from card_emulator.errors import EmulatorError
from card_emulator.paths import default_card_path
from card_emulator.transport.vpcd_ports import DEFAULT_HOST, DEFAULT_PORT, MAX_READERS

# The vpcd client, the served card and the card are imported where they are used (start-up:
# cli/app.py).
if TYPE_CHECKING:
    from card_emulator import Card
    from card_emulator.faults import FaultPlan
    from card_emulator.transport.vpcd import ClientState

# Exit codes of `mynacard serve` (README, "Real PC/SC"); 2: every command's usage/card-file error.
EXIT_STOPPED = 0  # stopped by SIGINT/SIGTERM after serving
EXIT_USAGE = 2  # bad option, card file missing/damaged/in use by a non-serve process
EXIT_BUSY = 3  # the reader or the card is already served by another process
EXIT_HOST = 4  # --host does not resolve
EXIT_TIMEOUT = 5  # not ready within --timeout

_SERVE_HELP = (
    "Serve a card to pcscd through vsmartcard's vpcd driver, until SIGINT or SIGTERM.\n\n"
    "Start the PC/SC stack first (scripts/pcsc-stack.sh start [--readers N]). Without PATH the "
    "default card is used, created on first use (its initial TEST PINs are printed once, to "
    'stderr). When pcscd sees the card, one line starting with "ready:" is printed on stdout (and '
    "written to --ready-file); progress before it goes to stderr.\n\n"
    "While it runs, `mynacard info|apdu|pin ... PATH` reach the card through its control channel "
    "(a 0600 Unix socket in $XDG_RUNTIME_DIR), and `mynacard ctl PATH ...` steers it: status, "
    "insert, remove, power-cycle, swap, snapshot, restore, faults, traces "
    "(docs/control-protocol.md). SIGUSR1 / SIGUSR2 still remove / insert it.\n\n"
    "Several cards at once: one serve process per reader, --reader 0 .. N-1.\n\n"
    "Exit codes: 0 stopped by a signal; 2 usage or card-file error; 3 the reader or the card is "
    "already served by another process; 4 --host does not resolve; 5 not ready within --timeout."
)


def _reader_label(port: int) -> str:
    from card_emulator.transport.vpcd import reader_name

    index = port - DEFAULT_PORT
    return reader_name(index) if 0 <= index < MAX_READERS else f"the vpcd reader on port {port}"


def _open_card(path: Path | None, seed: int) -> tuple[Card, Path]:
    from card_emulator import Card

    if path is not None:
        return Card.open(path), path.absolute()
    default = default_card_path()
    if default.exists():
        return Card.open(default), default
    default.parent.mkdir(parents=True, exist_ok=True)
    _say(f"creating the default card {default} (generating its test keys takes a few seconds)")
    card = Card.create(default, seed=seed)
    show_created_card(default, holder_dict(card), card.created_pins or {}, err=True)
    return card, default


def _check_ready_file(target: Path) -> None:
    """Refuse a --ready-file that could never be written, before pcscd is given the card."""
    parent = target.parent
    if target.is_dir():
        raise EmulatorError(f"--ready-file {target} is a directory")
    if not parent.is_dir():
        raise EmulatorError(f"--ready-file {target}: directory {parent} does not exist")
    # The line is written beside the target, then renamed: the directory must be writable.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EmulatorError(f"--ready-file {target}: directory {parent} is not writable")


def _write_ready_file(target: Path, line: str) -> None:
    # Write then rename, so a watcher never reads half a line.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(line + "\n", encoding="utf-8")
    tmp.replace(target)


def _fail(message: str, code: int) -> typer.Exit:
    _say(message)
    return typer.Exit(code)


def _read_plan(path: Path) -> FaultPlan:
    from card_emulator.faults import FaultPlan, FaultPlanError

    try:
        return FaultPlan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise _fail(f"--faults {path}: {error.strerror}", EXIT_USAGE) from None
    except (ValueError, FaultPlanError) as error:
        raise _fail(f"--faults {path}: not a fault plan ({error})", EXIT_USAGE) from None


def _check_host(host: str, port: int) -> None:
    """One line and exit 4 when ``--host`` does not resolve (issue 8: fail fast, say why)."""
    import socket

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise _fail(f"cannot resolve --host {host!r}: {error.strerror}", EXIT_HOST) from None


def _check_not_served(target: Path, what: str) -> None:
    """Fail fast when a live serve process already holds this control socket."""
    from card_emulator.transport.control import ControlClient

    if not target.exists():
        return
    try:
        with ControlClient(target, timeout=2.0) as other:
            server = other.hello.get("server", {})
    except (OSError, EmulatorError):
        return  # a socket left by a killed server: it will be replaced
    reader = server.get("reader", {}).get("name", "?")
    raise _fail(
        f"{what} is already served by process {server.get('pid', '?')} "
        f"(card {server.get('card', '?')} in {reader})",
        EXIT_BUSY,
    )


@app.command(help=_SERVE_HELP)
def serve(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Card file to serve (default: the default card, made on first use).",
            readable=False,
        ),
    ] = None,
    reader: Annotated[
        int | None,
        typer.Option(
            "--reader",
            min=0,
            max=MAX_READERS - 1,
            help="vpcd reader K: port 35963+K (scripts/pcsc-stack.sh start --readers N: K < N).",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="vpcd TCP port (instead of --reader)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Host where vpcd listens.")] = DEFAULT_HOST,
    ready_file: Annotated[
        Path | None,
        typer.Option("--ready-file", help="Also write the ready line to this file."),
    ] = None,
    seed: SeedOption = 0,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            help="Give up (exit 5) unless pcscd has taken the card within this many seconds.",
        ),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(
            "--trace",
            help="Record every exchange of the PC/SC client to this JSON Lines file, PINs "
            "redacted (docs/trace-format.md; `mynacard trace show FILE`).",
        ),
    ] = None,
    faults: Annotated[
        Path | None,
        typer.Option(
            "--faults", help="Apply this fault plan (JSON, docs/fault-plan.md) from the start."
        ),
    ] = None,
) -> None:
    if reader is not None and port is not None:
        raise typer.BadParameter("give either --reader or --port, not both")
    from card_emulator.transport.control import card_socket_path, reader_socket_path
    from card_emulator.transport.served import ServedCard
    from card_emulator.transport.vpcd import ClientState, port_for_reader

    target_port = port if port is not None else port_for_reader(reader or 0)
    label = _reader_label(target_port)
    _check_host(host, target_port)
    plan = _read_plan(faults) if faults is not None else None
    if ready_file is not None:
        _check_ready_file(ready_file)
        ready_file.unlink(missing_ok=True)  # a stale line from a killed server is not readiness
    _check_not_served(reader_socket_path(target_port), label)
    if path is not None:
        _check_not_served(card_socket_path(path), str(path))
    card, card_path = _open_card(path, seed)
    announced = threading.Event()
    exit_code = EXIT_STOPPED
    waiting_told = False
    served: ServedCard

    def on_state(state: ClientState, detail: str) -> None:
        nonlocal waiting_told, exit_code
        if state is ClientState.READY:
            waiting_told = False
            if announced.is_set():
                _say(f"card inserted again in {label}")
                return
            announced.set()
            line = f"ready: serving {card_path} on {host}:{target_port} ({label})"
            if ready_file is not None:
                _write_ready_file(ready_file, line)
            with contextlib.suppress(OSError):
                print(line, flush=True)
        elif state is ClientState.BUSY:
            if not announced.is_set():
                exit_code = EXIT_BUSY
                _say(f"{label} is already in use: {detail}")
                served.stop()
            else:
                _say(detail)
        elif state is ClientState.WAITING and not waiting_told:
            waiting_told = True
            _say(detail)
            _say("(the PC/SC stack: scripts/pcsc-stack.sh start|status; one card per reader)")
        elif state is ClientState.CONNECTED and not announced.is_set():
            _say(f"connected to vpcd at {host}:{target_port}; waiting for pcscd to take the card")
        elif state is ClientState.DISCONNECTED:
            _say(f"{detail} (pcscd restarted?); reconnecting")
        elif state is ClientState.REMOVED:
            _say(f"card removed from {label} (`mynacard ctl ... insert` or SIGUSR2 inserts it)")

    served = ServedCard(
        card, card_path, host=host, port=target_port, reader=label, on_state=on_state
    )
    try:
        served.listen()
        if plan is not None:
            served.rig.set_plan(plan)
        if trace is not None:
            served.rig.trace_start(trace.absolute())
    except (EmulatorError, OSError) as error:
        served.close()
        busy = getattr(error, "code", "") == "busy"
        if isinstance(error, OSError):
            error = EmulatorError(f"--trace {trace}: {error.strerror}")
        raise _fail(str(error), EXIT_BUSY if busy else EXIT_USAGE) from None

    def on_timeout() -> None:
        nonlocal exit_code
        if not announced.is_set():
            exit_code = EXIT_TIMEOUT
            _say(f"not ready after {timeout:g} s ({served.client.state.value}); stopping")
            served.stop()

    timer = threading.Timer(timeout, on_timeout) if timeout is not None else None
    client = served.client

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGUSR1:
            client.remove()
        elif signum == signal.SIGUSR2:
            client.insert()
        else:
            client.stop()

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)
    previous = {signum: signal.signal(signum, on_signal) for signum in handled}
    previous_fd = signal.set_wakeup_fd(client.wakeup_fd, warn_on_full_buffer=False)
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        served.run()
    finally:
        if timer is not None:
            timer.cancel()
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        served.close()  # counters were already durable (store commits before answering)
        if ready_file is not None:
            with contextlib.suppress(OSError):
                ready_file.unlink()
    _say("stopped")
    if exit_code != EXIT_STOPPED:
        raise typer.Exit(exit_code)


def _say(message: str) -> None:
    with contextlib.suppress(OSError):
        print(f"mynacard serve: {message}", file=sys.stderr, flush=True)
