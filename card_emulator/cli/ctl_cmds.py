"""``mynacard ctl PATH ...``: steer a card that ``mynacard serve`` is serving (docs/control-protocol.md).

Each subcommand is one request on the serve process's control channel. Exit codes: 0 done; 1 the
serve process refused or could not do it (the message says why); 2 a usage mistake; 3 PATH is not
being served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.app import app
from card_emulator.rules import PIN_SPECS, PinName

# The control client (it loads the card's modules and cryptography) is imported where it is used:
# `mynacard --help` registers this group cheaply (cli/app.py).
if TYPE_CHECKING:
    from card_emulator.transport.control import ControlClient

EXIT_REFUSED = 1
EXIT_NOT_SERVED = 3

ctl_app = typer.Typer(
    help="Steer a served card (`mynacard serve PATH` running): status, insert, remove, "
    "power-cycle, swap, snapshot, restore, faults, traces.",
    no_args_is_help=True,
)
app.add_typer(ctl_app, name="ctl")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.1, max=300, help="Seconds to wait for pcscd to take the card."),
]


@ctl_app.callback()
def ctl(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            metavar="CARD", help="The served card file (or the serve process's control socket)."
        ),
    ],
) -> None:
    ctx.obj = path


@contextmanager
def _channel(ctx: typer.Context) -> Iterator[ControlClient]:
    """The control channel of the server of ``ctx.obj``; one line and exit 3 when none serves it."""
    from card_emulator.transport.control import (
        ControlClient,
        ControlError,
        NotServedError,
        connect_card,
    )

    path: Path = ctx.obj
    try:
        client = ControlClient(path) if path.is_socket() else connect_card(path)
    except NotServedError as error:
        raise _fail(f"{error} (start it with `mynacard serve {path}`)", EXIT_NOT_SERVED) from None
    except OSError as error:
        raise _fail(f"cannot reach the serve process of {path}: {error}", EXIT_NOT_SERVED) from None
    except ControlError as error:
        raise _fail(str(error), EXIT_NOT_SERVED) from None
    with client:
        yield client


def _call(ctx: typer.Context, op: str, **arguments: Any) -> dict[str, Any]:
    from card_emulator.transport.control import ControlError

    with _channel(ctx) as client:
        try:
            return client.call(op, **arguments)
        except ControlError as error:
            raise _fail(str(error), EXIT_REFUSED) from None


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"mynacard ctl: {message}", err=True)
    return typer.Exit(code)


def _emit(result: dict[str, Any], as_json: bool, text: str) -> None:
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else text)


def _pins_text(pins: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for name, state in pins.items():
        label = PIN_SPECS[PinName(name)].name_en
        shown = "LOCKED" if state["locked"] else f"{state['remaining']}/{state['max_tries']}"
        lines.append(f"  {label:<26} {shown}")
    return lines


@ctl_app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Reader, inserted, powered, and the tries left of every PIN (no APDU is sent)."""
    result = _call(ctx, "status")
    reader = result["reader"]
    where = f"{reader['name']} ({reader['host']}:{reader['port']})"
    inserted = "inserted" if result["inserted"] else "removed"
    powered = "powered" if result["powered"] else "unpowered"
    lines = [
        f"{result['card']}  serial {result['serial']}  served by process {result['pid']}",
        f"reader: {where}, {result['state']}, {inserted}, {powered}",
        "PINs (tries left):",
        *_pins_text(result["pins"]),
        f"snapshot: {'taken' if result['snapshot'] else 'none'}",
        f"faults: {len(result['faults']['faults']) if result.get('faults') else 'none'}",
        f"trace: {result.get('trace') or 'off'}",
    ]
    _emit(result, as_json, "\n".join(lines))


@ctl_app.command()
def insert(ctx: typer.Context, timeout: TimeoutOption = 10.0, as_json: JsonOption = False) -> None:
    """Put the card back in the reader; returns when pcscd has taken it (powered, ATR read)."""
    result = _call(ctx, "insert", timeout=timeout)
    _emit(result, as_json, f"inserted ({result['state']})")


@ctl_app.command()
def remove(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Take the card out of the reader (pcscd notices at its next poll, within about 0.4 s)."""
    result = _call(ctx, "remove")
    _emit(result, as_json, "removed")


@ctl_app.command("power-cycle")
def power_cycle(
    ctx: typer.Context, timeout: TimeoutOption = 10.0, as_json: JsonOption = False
) -> None:
    """Take the card out and put it back in.

    Selection and verified PINs are lost, counters stay; the PC/SC client sees a removal and must
    connect again.
    """
    result = _call(ctx, "power_cycle", timeout=timeout)
    _emit(result, as_json, f"power-cycled ({result['state']})")


@ctl_app.command()
def swap(
    ctx: typer.Context,
    other: Annotated[Path, typer.Argument(help="The card file to put in the reader instead.")],
    timeout: TimeoutOption = 10.0,
    as_json: JsonOption = False,
) -> None:
    """Put another card file in the same reader, without a restart.

    The served card goes out (its file is released) and OTHER goes in; address the server by OTHER
    afterwards. Nothing changes if OTHER cannot be opened.
    """
    result = _call(ctx, "swap", path=str(other.absolute()), timeout=timeout)
    _emit(result, as_json, f"now serving {result['card']} (serial {result['serial']})")


@ctl_app.command()
def snapshot(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Remember every PIN's value and counter, to put them back with `restore`."""
    result = _call(ctx, "snapshot")
    _emit(result, as_json, f"snapshot taken of {result['serial']} ({result['pins']} PINs)")


@ctl_app.command()
def restore(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Put back every PIN's value and counter as at the last snapshot.

    Written to the card file too. The card is reset (nothing selected or verified) without leaving
    the reader: a PC/SC client keeps its connection and selects again.
    """
    result = _call(ctx, "restore")
    _emit(result, as_json, "\n".join(["restored; PINs (tries left):", *_pins_text(result["pins"])]))


# -- faults and traces (the test kit's: docs/fault-plan.md, docs/trace-format.md) ----------------

_STRING_FIELDS = {"match", "sw", "data", "pin", "profile"}


def _field_value(name: str, text: str) -> Any:
    if name in _STRING_FIELDS:
        return None if text.lower() in {"null", "none"} else text
    if text.lower() in {"null", "none"}:
        return None
    try:
        return int(text, 0)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise _fail(f"{name}={text}: a number or null", 2) from None


@ctl_app.command()
def fault(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(help="remove, tear, force_status, latency, truncate or corrupt."),
    ],
    fields: Annotated[
        list[str] | None,
        typer.Argument(help="NAME=VALUE fields of the fault, as in docs/fault-plan.md."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add one fault of the test kit to the served card (`clear` removes them all).

    Examples: `fault force_status sw=6581 match=SIGN`, `fault latency ms=200`, `fault latency
    profile=contact`, `fault remove after=3`, `fault remove match=VERIFY reinsert_after=0`,
    `fault tear pin=user_auth`, `fault truncate match=00B0 keep=100`, `fault corrupt offset=-1`.
    On a served card a removal takes the card out of the reader for real; reinsert_after=N puts it
    back after N x 0.5 s (at least 1 s: pcscd must see it out), null keeps it out until `insert`.
    """
    data: dict[str, Any] = {"fault": kind.replace("-", "_")}
    for item in fields or []:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise _fail(f"{item!r}: fields are NAME=VALUE", 2)
        name = name.replace("-", "_")
        data[name] = _field_value(name, text)
    result = _call(ctx, "fault", fault=data)
    shown = ", ".join(json.dumps(f, separators=(",", ":")) for f in result["faults"]["faults"])
    _emit(result, as_json, f"faults now: {shown}")


@ctl_app.command()
def faults(
    ctx: typer.Context,
    plan: Annotated[Path, typer.Argument(help="A fault plan (JSON, docs/fault-plan.md).")],
    as_json: JsonOption = False,
) -> None:
    """Replace every fault with the plan in PLAN (its counts start now)."""
    try:
        data = json.loads(plan.read_text(encoding="utf-8"))
    except OSError as error:
        raise _fail(f"{plan}: {error.strerror}", 2) from None
    except ValueError as error:
        raise _fail(f"{plan}: not JSON ({error})", 2) from None
    result = _call(ctx, "faults", plan=data)
    _emit(result, as_json, f"{len(result['faults']['faults'])} fault(s) set")


@ctl_app.command()
def clear(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Remove every fault (a card a fault took out stays out: `insert` puts it back)."""
    result = _call(ctx, "clear")
    _emit(result, as_json, "no faults")


trace_app = typer.Typer(help="Record the PC/SC client's exchanges (JSON Lines, PINs redacted).")
ctl_app.add_typer(trace_app, name="trace")


@trace_app.command("start")
def trace_start(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The trace file to write (docs/trace-format.md).")],
    as_json: JsonOption = False,
) -> None:
    """Record every exchange and event of the served card from now on, into FILE."""
    result = _call(ctx, "trace_start", path=str(file.absolute()))
    _emit(result, as_json, f"recording to {result['path']} (`mynacard trace show` renders it)")


@trace_app.command("stop")
def trace_stop(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Stop recording; the file is complete."""
    result = _call(ctx, "trace_stop")
    _emit(result, as_json, f"{result['path']}: {result['exchanges']} exchanges")
