"""Run a flow against a card: expand ``{pin:NAME}`` and ``@cert:FID`` and record what the card says."""

from __future__ import annotations

import re
from collections.abc import Iterator

from apdu import redact_command
from card_emulator import Card, PinName
from tests.golden.flows import FLOWS, chunked_reads

PIN_SLOT = re.compile(r"\{pin:([a-z_]+)\}")


def _expand(card: Card, command: str) -> tuple[bytes, str]:
    """The bytes to send and the command as the transcript writes it (PIN hidden)."""
    match = PIN_SLOT.search(command)
    if match is not None:
        value = (card.created_pins or {})[PinName(match.group(1))].encode("ascii")
        command = (
            command[: match.start()] + f"{len(value):02X}" + value.hex() + command[match.end() :]
        )
    raw = bytes.fromhex(command)
    return raw, redact_command(raw)


def run_flow(card: Card, name: str) -> Iterator[tuple[str, str]]:
    last_header = b""
    for step in FLOWS[name]:
        if step.startswith("@cert:"):
            size = int.from_bytes(last_header[2:4], "big") + 4
            commands = chunked_reads(size, first=len(last_header))
        else:
            commands = [step]
        for command in commands:
            raw, shown = _expand(card, command)
            response = card.transmit(raw)
            if raw[1] == 0xB0 and raw[2:4] == b"\x00\x00":
                last_header = response[:-2]
            yield shown, response.hex().upper()
