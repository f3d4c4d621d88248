"""`mynacard face [CARD] -o face.png`: draw the card front from 券面事項確認AP EF 0002, as a client.

The card is read through its APDUs exactly as a client reads it (card-interface.md §6.4): SELECT
the card-surface AP, VERIFY 照合番号A (EF 0013) or B (EF 0012) with the values the holder's card
shows, read EF 0002 and EF 0004 whole by short EF identifier, check the DF28 signature under the
key EF 0004 certifies, then draw. A correct VERIFY leaves the counter at its maximum.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apdu.status import describe
from card_emulator.cli.app import app
from card_emulator.cli.teach_util import PathArgument
from card_emulator.errors import EmulatorError
from card_emulator.rules import APP_AIDS, PIN_SPECS, AppName, PinName

# The card, the CV certificates and the drawing (Pillow) are imported in the command's body:
# `mynacard --help` registers it cheaply (cli/app.py).
if TYPE_CHECKING:
    from card_emulator.card import Card

_CODE_PINS = {"A": PinName.SURFACE_CODE_A, "B": PinName.SURFACE_CODE_B}


def _send(card: Card, apdu: bytes, what: str) -> bytes:
    response = card.transmit(apdu)
    if response[-2:] != b"\x90\x00":
        raise EmulatorError(f"{what}: the card answered {response[-2:].hex().upper()}")
    return response[:-2]


@app.command()
def face(
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="PNG", help="The PNG to write.")
    ],
    path: PathArgument = None,
    code: Annotated[
        str,
        typer.Option(
            metavar="A|B",
            help="Read with 照合番号A (the My Number) or B (birth date, expiry, code).",
        ),
    ] = "A",
) -> None:
    """Draw the card front from EF 0002 of the card-surface AP (券面事項確認AP) and save it as PNG
    (default: the default card)."""
    from card_emulator.card import Card
    from card_emulator.cli.card_cmds import card_path_or_default
    from card_emulator.cv import SURFACE_CA_KEY_ID, parse_cv_certificate, surface_ca_key
    from card_emulator.face_draw import draw_card_face, png
    from card_emulator.formats import era_yymmdd
    from card_emulator.surface import read_card_face

    code = code.strip().upper()
    if code not in _CODE_PINS:
        raise typer.BadParameter(f"{code!r}: choose A or B", param_hint="--code")
    with Card.open(card_path_or_default(path)) as card:
        holder = card.issuer.holder()
        value = (
            holder.my_number
            if code == "A"
            else f"{era_yymmdd(holder.birth_date)}{holder.card_expiry.year:04d}{holder.security_code}"
        )
        aid = APP_AIDS[AppName.SURFACE]
        _send(card, bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid, "SELECT the card-surface AP")
        fid = PIN_SPECS[_CODE_PINS[code]].fid
        verify = bytes([0x00, 0x20, 0x00, 0x80 | fid, len(value)]) + value.encode("ascii")
        answer = card.transmit(verify)[-2:]
        if answer != b"\x90\x00":  # the card's "no" (a locked code: 6984): exit 1, one line
            sw = int.from_bytes(answer, "big")
            other = "B" if code == "A" else "A"
            typer.echo(
                f"mynacard: VERIFY 照合番号{code}: the card answered {sw:04X}: {describe(sw)}; "
                f"try --code {other}, or an issuer reset (card.issuer.reset_pin)",
                err=True,
            )
            raise typer.Exit(1)
        ef0002 = _send(card, bytes.fromhex("00B08200000000"), "READ BINARY EF 0002")
        ef0004 = _send(card, bytes.fromhex("00B08400000000"), "READ BINARY EF 0004")
    card_face = read_card_face(ef0002)
    certificate = parse_cv_certificate(ef0004)
    certificate.verify(surface_ca_key().public_key())
    signed = card_face.verify(certificate.public_key)
    try:
        output.write_bytes(png(draw_card_face(card_face)))
    except OSError as error:
        message = f"{output}: cannot be written ({error.strerror})"
        raise typer.BadParameter(message, param_hint="-o") from None
    ca = SURFACE_CA_KEY_ID[:7].decode()
    typer.echo(f"wrote {output} (TEST card face, read with 照合番号{code})")
    typer.echo(
        f"DF28 signature {'verifies' if signed else 'DOES NOT verify'} under the key EF 0004 "
        f"certifies (CV certificate by test CA {ca})"
    )
    if not signed:
        raise typer.Exit(1)
