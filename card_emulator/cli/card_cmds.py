"""`mynacard init`, `info` and `apdu`: make a card, look at it, talk to it in-process.

Each takes the card file as an optional first argument; without it the default card
(``card_emulator.paths.default_card_path``, as ``serve`` and ``pin`` use) is meant, and ``init``
creates its directory. The card, ``cryptography`` and the APDU codec are imported inside the
commands (start-up: cli/app.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.app import app
from card_emulator.cli.progress import progress
from card_emulator.cli.teach_util import (
    JsonOption,
    LangOption,
    PathArgument,
    SeedOption,
    fail,
    lang_of,
)
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName

if TYPE_CHECKING:
    from card_emulator.card import Card
    from card_emulator.trace import Exchange

# Card paths (teach_util.PathArgument) are declared ``readable=False``: typer's own check would
# answer a usage error of four lines; Card.open says what is wrong with a card file in one ("cannot be read", "cannot be
# written", "damaged ...").


def holder_dict(card: Card) -> dict[str, Any]:
    """The synthetic holder of ``card`` for ``--json``: the card-face fields, dates ISO 8601."""
    holder = card.issuer.holder()
    return {
        "name": holder.name,
        "address": holder.address,
        "birth_date": holder.birth_date.isoformat(),
        "sex": holder.sex,
        "my_number": holder.my_number,
        "card_expiry": holder.card_expiry.isoformat(),
        "security_code": holder.security_code,
    }


def card_path_or_default(path: Path | None, *, create_directory: bool = False) -> Path:
    """``path``, or the default card's path (``paths.default_card_path``).

    With ``create_directory`` the default card's directory is made (0700, as XDG asks for user
    data) when the default card is meant, given or not: ``mynacard init`` works on a new machine.
    Any other directory must exist already.
    """
    from card_emulator.paths import default_card_path

    default = default_card_path()
    chosen = default if path is None else path
    if create_directory and chosen.expanduser().absolute() == default.absolute():
        default.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return chosen


@app.command()
def init(
    path: PathArgument = None,
    seed: SeedOption = 0,
    issued: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Issuance date (default: a fixed test date)."),
    ] = None,
    variant: Annotated[
        str,
        typer.Option(
            metavar="VARIANT", help="standard, under15 (no signing certificate) or expired."
        ),
    ] = "standard",
    as_json: JsonOption = False,
) -> None:
    """Create a card for a synthetic holder; print its data, initial (test) PINs and 照合番号A/B.

    Without CARD the default card is created (its directory too). This is the only time the
    PINs are shown: the card keeps only their hashes.
    """
    if variant not in ("standard", "under15", "expired"):
        raise typer.BadParameter("choose standard, under15 or expired", param_hint="--variant")
    issued_date = _parse_date(issued, "--issued") if issued else None
    card_path = card_path_or_default(path, create_directory=True)
    card = create_card(card_path, seed, issued=issued_date, variant=variant, quiet=as_json)
    with card:
        pins = card.created_pins or {}
        holder = holder_dict(card)
        result = {
            "path": str(card_path),
            "my_number": holder["my_number"],
            "holder": holder,
            "pins": {pin.value: pins[pin] for pin in USER_PINS if pin in pins},
            "verification_code_a": pins.get(PinName.TEXT_CODE_A),
            "verification_code_b": pins.get(PinName.TEXT_CODE_B),
            "test_card": True,
        }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    show_created_card(card_path, holder, pins, err=False)


def create_card(
    path: Path | None, seed: int, *, issued: date | None = None, variant: str = "standard",
    quiet: bool = False,
) -> Card:  # fmt: skip
    """``Card.create`` with one progress line on a terminal while the keys are made (unless
    ``quiet``): a seed not in the key cache takes a second or more (cli.progress)."""
    from card_emulator.card import Card

    with progress(f"making the test card of seed {seed} (its RSA keys)", quiet=quiet):
        return Card.create(path, seed=seed, issued=issued, variant=variant)  # type: ignore[arg-type]


# 照合番号A/B: what the text input helper AP (and the card-surface AP) verify (card-interface.md
# §5.6); they are derived from the card face, so a client needs them as much as the PINs.
VERIFICATION_CODES = (
    (PinName.TEXT_CODE_A, "照合番号A (verification code A: the My Number)"),
    (PinName.TEXT_CODE_B, "照合番号B (verification code B: birth date, expiry year, code)"),
)


def show_created_card(
    path: Path, holder: dict[str, Any], pins: dict[PinName, str], *, err: bool
) -> None:
    """The one time a card's initial PINs can be shown: right after it was created."""
    typer.echo(f"Created {path} (TEST card: synthetic holder, test keys)", err=err)
    for key, value in holder.items():
        typer.echo(f"  {key:<16} {value}", err=err)
    typer.echo("Initial TEST PINs (shown once; the card stores only hashes):", err=err)
    for pin in USER_PINS:
        if pin in pins:
            typer.echo(f"  {PIN_SPECS[pin].name_en:<26} {pins[pin]}", err=err)
    codes = [(label, pins[pin]) for pin, label in VERIFICATION_CODES if pin in pins]
    if codes:
        typer.echo("Verification codes from the card face (text and card-surface APs):", err=err)
        for label, value in codes:
            typer.echo(f"  {label}: {value}", err=err)


@app.command()
def info(path: PathArgument = None, as_json: JsonOption = False) -> None:
    """The holder, the certificates and each PIN's remaining tries (default: the default card).

    A card that ``mynacard serve`` holds is read through its control channel."""
    from cryptography.hazmat.primitives import hashes

    from card_emulator.transport.control import open_card

    card_path = card_path_or_default(path)
    with open_card(card_path) as card:
        meta = card.issuer.meta()
        certificates = {
            label: {
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "serial": f"{cert.serial_number:X}",
                "not_before": cert.not_valid_before_utc.isoformat(),
                "not_after": cert.not_valid_after_utc.isoformat(),
                "sha256": cert.fingerprint(hashes.SHA256()).hex().upper(),
            }
            for label, cert in card.issuer.certificates().items()
        }
        pins: dict[str, dict[str, Any]] = {}
        for pin in card.issuer.pins():
            pins[pin.value] = card.issuer.pin_status(pin).as_json()
        result: dict[str, Any] = {
            "path": str(card_path),
            "serial": meta.get("serial"),
            "seed": int(meta["seed"]),
            "holder": holder_dict(card),
            "certificates": certificates,
            "pins": pins,
        }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{card_path}  serial {result['serial']}  seed {result['seed']}  (TEST card)")
    typer.echo("Holder:")
    for key, value in result["holder"].items():
        typer.echo(f"  {key:<16} {value}")
    typer.echo("Certificates:")
    for label, cert in certificates.items():
        typer.echo(f"  {label:<13} {cert['subject']}")
        typer.echo(f"  {'':<13} valid {cert['not_before'][:10]} .. {cert['not_after'][:10]}")
    typer.echo("PINs (tries left):")
    width = max((len(PIN_SPECS[PinName(name)].name_en) for name in pins), default=0)
    for name, shown in pins.items():
        spec = PIN_SPECS[PinName(name)]
        state = "LOCKED" if shown["locked"] else f"{shown['remaining']}/{shown['max_tries']}"
        typer.echo(f"  {spec.name_en:<{width}}  {state}")


@app.command("apdu")
def apdu_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CARD APDU",
            help="The card file (left out: the default card), then command APDUs in hex, one "
            "per argument; `-` reads them from standard input, one per line (`#` starts a "
            "comment). The first argument is the card unless it is `-` or an APDU in hex that "
            "names no file.",
            show_default=False,
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Explain each answer in plain words.")
    ] = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send APDUs to a card in-process and print each response with its status word.

    The card is powered on once: selections and verified PINs last across the APDUs given.
    PINs in VERIFY and CHANGE commands are redacted in the output and in --json. A card that
    ``mynacard serve`` holds is reached through its control channel.
    """
    from card_emulator.transport.control import open_card

    language = lang_of(lang)  # refused before the card is opened, --explain or not
    path, texts = split_card_argument(args or [])
    commands = read_apdus(texts, sys.stdin)
    exchanges: list[Exchange] = []
    with open_card(card_path_or_default(path)) as card:  # or the serve process holding it
        card.add_observer(exchanges.append)
        card.power_on()
        for command in commands:
            card.transmit(command)
    if as_json:
        typer.echo(json.dumps({"exchanges": [exchange_dict(e) for e in exchanges]}, indent=2))
    elif explain:
        _print_explained(exchanges, language)
    else:
        from apdu import describe

        for exchange in exchanges:
            typer.echo(f"> {exchange.redacted()}")
            data = exchange.response[:-2].hex().upper()
            typer.echo(f"< {data + ' ' if data else ''}{exchange.sw:04X}  {describe(exchange.sw)}")


def _looks_like_apdu(text: str) -> bool:
    from apdu import parse_hex

    try:
        return len(parse_hex(text)) >= 4  # CLA INS P1 P2 at least
    except ValueError:
        return False


def split_card_argument(args: list[str]) -> tuple[Path | None, list[str]]:
    """``[CARD] APDU...`` → (the card path or None for the default card, the APDU arguments).

    The first argument is the card file unless it is ``-`` or an APDU in hex that names no
    existing file. Exit 2 with one line when no APDU (nor ``-``) follows.
    """
    path: Path | None = None
    rest = list(args)
    if rest and rest[0] != "-" and (Path(rest[0]).exists() or not _looks_like_apdu(rest[0])):
        path = Path(rest.pop(0))
    if not rest:
        raise fail("apdu: give command APDUs in hex after the card, or - to read them from stdin")
    return path, rest


def read_apdus(texts: Iterable[str], stdin: Any) -> list[bytes]:
    """The APDUs of the arguments in order; ``-`` stands for the lines of ``stdin`` (blank lines
    and everything after ``#`` ignored). Exit 2 with one line naming the argument or line that
    is not hex (its text is not repeated: it may hold a PIN), or when standard input held none."""
    from apdu import parse_hex

    commands: list[bytes] = []
    stdin_used = False
    for position, text in enumerate(texts, 1):
        if text != "-":
            try:
                commands.append(parse_hex(text))
            except ValueError as exc:
                raise fail(f"apdu: APDU {position}: {exc}") from None
            continue
        if stdin_used:
            raise fail("apdu: - (standard input) given twice")
        stdin_used = True
        for number, line in enumerate(stdin, 1):
            code = line.split("#", 1)[0].strip()
            if not code:
                continue
            try:
                commands.append(parse_hex(code))
            except ValueError as exc:
                raise fail(f"apdu: standard input line {number}: {exc}") from None
    if not commands:  # only `-`, and standard input held no APDU: say so, as for no argument
        raise fail("apdu: standard input held no APDU (blank lines and # comments only)")
    return commands


def exchange_dict(exchange: Exchange) -> dict[str, Any]:
    """One exchange for ``apdu --json``: the command redacted, the response data and status word
    in hex, the status word's meaning and the card's reading (action, PIN, tries, reason)."""
    from apdu import describe

    return {
        "command": exchange.redacted(),
        "response": exchange.response[:-2].hex().upper(),
        "sw": f"{exchange.sw:04X}",
        "meaning": describe(exchange.sw),
        "action": exchange.action,
        "pin": exchange.pin.value if exchange.pin else None,
        "tries_left": exchange.tries_left,
        "reason": exchange.reason,
    }


def _print_explained(exchanges: list[Exchange], language: Any) -> None:
    """One row per exchange, wrapped to the terminal, in one language (teaching.explain)."""
    from card_emulator.teaching.explain import explain_table
    from card_emulator.teaching.render import console

    console().print(explain_table(exchanges, language))


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=option) from None
