"""``mynacard serve``: put a card file into a vpcd reader of the real PC/SC stack (pcsc-vpcd.md)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from card_emulator.cli.app import app
from card_emulator.cli.card_cmds import holder_dict, show_created_card
from card_emulator.errors import EmulatorError
from card_emulator.paths import default_card_path
from card_emulator.transport.vpcd import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ClientState,
    VpcdClient,
    port_for_reader,
)

if TYPE_CHECKING:
    from card_emulator import Card

_SERVE_HELP = (
    "Serve a card to pcscd through vsmartcard's vpcd driver, until SIGINT or SIGTERM.\n\n"
    "Start the PC/SC stack first (scripts/pcsc-stack.sh start). Without PATH the default card is "
    "used, created on first use (its initial TEST PINs are printed once, to stderr). When pcscd "
    'sees the card, one line starting with "ready:" is printed on stdout (and written to '
    "--ready-file).\n\n"
    "Hot-plug: SIGUSR1 removes the card from the reader, SIGUSR2 inserts it again.\n\n"
    "Two cards at once: two serve processes, with --reader 0 and --reader 1."
)


def _reader_name(port: int) -> str:
    index = port - DEFAULT_PORT
    # Debian's vpcd names its readers `Virtual PCD 00 00` and `Virtual PCD 00 01` (§1).
    return f"Virtual PCD 00 {index:02d}" if 0 <= index <= 1 else "a vpcd reader"


def _open_card(path: Path | None, seed: int) -> tuple[Card, Path]:
    from card_emulator import Card

    if path is not None:
        return Card.open(path), path
    default = default_card_path()
    if default.exists():
        return Card.open(default), default
    default.parent.mkdir(parents=True, exist_ok=True)
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
        typer.Option("--reader", min=0, max=1, help="vpcd reader: 0 = port 35963, 1 = port 35964."),
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
    seed: Annotated[
        int, typer.Option("--seed", help="Seed used only when the default card is created.")
    ] = 0,
) -> None:
    if reader is not None and port is not None:
        raise typer.BadParameter("give either --reader or --port, not both")
    target_port = port if port is not None else port_for_reader(reader or 0)
    reader_name = _reader_name(target_port)

    if ready_file is not None:
        _check_ready_file(ready_file)
        ready_file.unlink(missing_ok=True)  # a stale line from a killed server is not readiness
    card, card_path = _open_card(path, seed)
    announced = False
    waiting_told = False

    def on_state(state: ClientState, detail: str) -> None:
        nonlocal announced, waiting_told
        if state is ClientState.READY:
            waiting_told = False
            if announced:
                _say(f"card inserted again in {reader_name}")
                return
            announced = True
            line = f"ready: serving {card_path} on {host}:{target_port} ({reader_name})"
            if ready_file is not None:
                _write_ready_file(ready_file, line)
            with contextlib.suppress(OSError):
                print(line, flush=True)
        elif state is ClientState.WAITING and not waiting_told:
            waiting_told = True
            _say(detail)
            _say("(the PC/SC stack: scripts/pcsc-stack.sh start|status; one card per reader)")
        elif state is ClientState.DISCONNECTED:
            _say(f"{detail} (pcscd restarted?); reconnecting")
        elif state is ClientState.REMOVED:
            _say(f"card removed from {reader_name} (SIGUSR2 inserts it)")

    client = VpcdClient(card, host=host, port=target_port, on_state=on_state)

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
    try:
        client.run()
    finally:
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        client.close()
        card.close()  # counters were already durable (store commits before answering)
        if ready_file is not None:
            with contextlib.suppress(OSError):
                ready_file.unlink()
    _say("stopped")


def _say(message: str) -> None:
    with contextlib.suppress(OSError):
        print(f"mynacard serve: {message}", file=sys.stderr, flush=True)
