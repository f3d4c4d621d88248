"""`mynacard trace show|replay|diff`: read, re-run and compare traces (docs/trace-format.md).

Exit codes: 0 no divergence (or shown), 1 a divergence (the diff is printed), 2 a file that is not
a trace, or another mistake (one line). Traces never hold PINs; ``replay`` takes a PIN value from
``$MYNACARD_PIN_<NAME>`` or asks for it, hidden, only when ``--card`` names a card file whose PINs
it cannot know (``--pin NAME``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from card_emulator.cli.app import app
from card_emulator.cli.teach_util import pin_of, secret
from card_emulator.pin_names import choices_text
from card_emulator.rules import PinName
from card_emulator.teaching.i18n import Lang

# The card, the recorder and the replay are imported where they are used (start-up: cli/app.py).
if TYPE_CHECKING:
    from card_emulator.trace import Trace

trace_app = typer.Typer(
    help="Traces of a card's exchanges (JSON Lines, PINs redacted): show, replay, diff.",
    no_args_is_help=True,
)
app.add_typer(trace_app, name="trace")


def summary(trace: Trace) -> str:
    """One line about a trace: its card, transport, start and size."""
    card = trace.header.card
    what = (
        f"card seed {card.get('seed')} ({card.get('variant', '?')}, issued "
        f"{card.get('issued', '?')}, serial {card.get('serial', '?')})"
        if card
        else "an unnamed card"
    )
    count = sum(1 for _ in trace.exchanges())
    return (
        f"trace of {what} via {trace.header.transport}, started {trace.header.started}: "
        f"{count} exchanges, {len(trace.entries) - count} events"
    )


@trace_app.command("show")
def show(
    path: Annotated[Path, typer.Argument(help="The trace file (.jsonl).")],
    refusals: Annotated[
        bool, typer.Option("--refusals", help="Only the refusals and the events around them.")
    ] = False,
) -> None:
    """Print a trace: each exchange with its status word, PIN and tries, the card's reason and
    the diagnosis of each refusal, the faults applied, and the events between exchanges."""
    from card_emulator.recorder import format_entry
    from card_emulator.trace import read_trace

    trace = read_trace(path)
    typer.echo(summary(trace))
    if trace.header.faults:
        faults = trace.header.faults.get("faults", [])
        typer.echo(f"fault plan at the start: {', '.join(str(f.get('fault')) for f in faults)}")
    for entry in trace.entries:
        if refusals and entry.is_exchange and entry.decision == "accepted":
            continue
        typer.echo(format_entry(entry, width=44))


@trace_app.command("replay")
def replay_command(
    path: Annotated[Path, typer.Argument(help="The trace file (.jsonl).")],
    card: Annotated[
        Path | None,
        typer.Option(
            help="Replay against a copy of this card file (default: the trace's card, made "
            "again from its seed and holder)."
        ),
    ] = None,
    pin: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PIN",
            help="A PIN whose value the replay needs (with --card): from $MYNACARD_PIN_<NAME> "
            "(e.g. MYNACARD_PIN_USER_AUTH), else asked for, hidden. Repeat. "
            f"One of {choices_text(list(PinName), with_aliases=False)} (- for _ and the "
            "aliases of `pin --pin` too).",
        ),
    ] = None,
) -> None:
    """Send the trace's commands to the card again and stop at the first different answer."""
    from card_emulator.card import Card
    from card_emulator.testing.replay import replay
    from card_emulator.trace import read_trace

    trace = read_trace(path)
    pins = {}
    for name in pin or []:
        chosen = pin_of(name, tuple(PinName))
        # As `mynacard pin`: an environment variable or a hidden prompt, never piped input.
        env_name = f"MYNACARD_PIN_{chosen.value.upper()}"
        pins[chosen.value] = secret(env_name, f"value of {chosen.value}", Lang.EN)
    if card is None:
        result = replay(trace, pins=pins)
    else:
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / card.name
            shutil.copyfile(card, copy)  # the replay spends tries: never on the user's card
            copy.chmod(0o600)
            with Card.open(copy) as opened:
                result = replay(trace, opened, pins=pins)
    if result.divergence is not None:
        typer.echo(str(result.divergence))
        raise typer.Exit(1)
    typer.echo(f"replayed {result.exchanges} exchanges: no divergence")


@trace_app.command("diff")
def diff_command(
    first: Annotated[Path, typer.Argument(help="Trace A (.jsonl).")],
    second: Annotated[Path, typer.Argument(help="Trace B (.jsonl).")],
) -> None:
    """Compare two traces exchange by exchange; print the first difference as a diff."""
    from card_emulator.testing.replay import diff_traces
    from card_emulator.trace import read_trace

    a, b = read_trace(first), read_trace(second)
    divergence = diff_traces(a, b)
    if divergence is not None:
        typer.echo(str(divergence))
        raise typer.Exit(1)
    count = sum(1 for _ in a.exchanges())
    typer.echo(f"no difference in {count} exchanges")
