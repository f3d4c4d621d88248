"""`mynacard init`, `info` and `apdu`: make a card, look at it, talk to it in-process."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives import hashes

from apdu import ResponseApdu, describe, parse_hex, redact_command
from card_emulator.card import Card
from card_emulator.cli.app import app
from card_emulator.issuance import Variant
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.trace import Exchange
from card_emulator.transport.control import open_card

# Card paths are declared ``readable=False``: typer's own check would answer a usage error of four
# lines; Card.open says what is wrong with a card file in one ("cannot be read", "cannot be
# written", "damaged ...").


def holder_dict(card: Card) -> dict[str, Any]:
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


@app.command()
def init(
    path: Annotated[
        Path, typer.Argument(help="The card file to create (must not exist).", readable=False)
    ],
    seed: Annotated[int, typer.Option(help="Same seed, same card, byte for byte.")] = 0,
    issued: Annotated[
        str | None, typer.Option(help="Issuance date YYYY-MM-DD (default: a fixed test date).")
    ] = None,
    variant: Annotated[
        str, typer.Option(help="standard, under15 (no signing certificate) or expired.")
    ] = "standard",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create a card for a synthetic holder and print its data and initial (test) PINs.

    This is the only time the PINs are shown: the card keeps only their hashes.
    """
    if variant not in ("standard", "under15", "expired"):
        raise typer.BadParameter("choose standard, under15 or expired", param_hint="--variant")
    chosen: Variant = variant  # type: ignore[assignment]
    issued_date = _parse_date(issued, "--issued") if issued else None
    with Card.create(path, seed=seed, issued=issued_date, variant=chosen) as card:
        pins = card.created_pins or {}
        holder = holder_dict(card)
        result = {
            "path": str(path),
            "my_number": holder["my_number"],
            "holder": holder,
            "pins": {pin.value: pins[pin] for pin in USER_PINS if pin in pins},
            "verification_code_b": pins.get(PinName.TEXT_CODE_B),
            "test_card": True,
        }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    show_created_card(path, holder, pins, err=False)


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


@app.command()
def info(
    path: Annotated[Path, typer.Argument(help="The card file.", readable=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The holder, the certificates and each PIN's remaining tries."""
    with open_card(path) as card:
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
            pin_status = card.issuer.pin_status(pin)
            pins[pin.value] = {
                "remaining": pin_status.remaining,
                "max_tries": pin_status.max_tries,
                "locked": pin_status.locked,
            }
        result: dict[str, Any] = {
            "path": str(path),
            "serial": meta.get("serial"),
            "seed": int(meta["seed"]),
            "holder": holder_dict(card),
            "certificates": certificates,
            "pins": pins,
        }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{path}  serial {result['serial']}  seed {result['seed']}  (TEST card)")
    typer.echo("Holder:")
    for key, value in result["holder"].items():
        typer.echo(f"  {key:<16} {value}")
    typer.echo("Certificates:")
    for label, cert in certificates.items():
        typer.echo(f"  {label:<13} {cert['subject']}")
        typer.echo(f"  {'':<13} valid {cert['not_before'][:10]} .. {cert['not_after'][:10]}")
    typer.echo("PINs (tries left):")
    for name, shown in pins.items():
        spec = PIN_SPECS[PinName(name)]
        state = "LOCKED" if shown["locked"] else f"{shown['remaining']}/{shown['max_tries']}"
        typer.echo(f"  {spec.name_en:<26} {state}")


@app.command("apdu")
def apdu_command(
    path: Annotated[Path, typer.Argument(help="The card file.", readable=False)],
    apdus: Annotated[list[str], typer.Argument(help="Command APDUs in hex, one per argument.")],
    explain: Annotated[
        bool, typer.Option("--explain", help="Explain each answer in plain words.")
    ] = False,
    lang: Annotated[str | None, typer.Option(help="ja or en (default: from LANG).")] = None,
) -> None:
    """Send APDUs to a card in-process and print each response with its status word.

    The card is powered on once: selections and verified PINs last across the APDUs given.
    PINs in VERIFY and CHANGE commands are redacted in the output.
    """
    commands = [parse_hex(text) for text in apdus]
    exchanges: list[Exchange] = []
    with open_card(path) as card:
        card.add_observer(exchanges.append)
        card.power_on()
        for command in commands:
            card.transmit(command)
    if explain:
        _print_explained(exchanges, lang)
        return
    for exchange in exchanges:
        response = ResponseApdu.parse(exchange.response)
        typer.echo(f"> {redact_command(exchange.command)}")
        data = response.data.hex().upper()
        typer.echo(f"< {data + ' ' if data else ''}{response.sw:04X}  {describe(response.sw)}")


def _print_explained(exchanges: list[Exchange], lang: str | None) -> None:
    """One row per exchange, wrapped to the terminal, in one language (teaching.explain)."""
    from card_emulator.teaching.explain import explain_table
    from card_emulator.teaching.i18n import choose_lang
    from card_emulator.teaching.render import console

    try:
        language = choose_lang(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None
    console().print(explain_table(exchanges, language))


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=option) from None
