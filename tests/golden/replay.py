"""Run a flow against a card: expand ``{pin:NAME}`` and ``@cert:FID``, and record what the card says.

The recording is the public kit's (``card_emulator.recorder.Recorder``): the transcript lines are
its redacted commands and the responses, so transcripts and traces redact PINs the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from card_emulator import Card, PinName
from card_emulator.recorder import Recorder
from tests.golden.flows import FLOWS, chunked_reads

PIN_SLOT = re.compile(r"\{pin:([a-z_]+)\}")


def _expand(card: Card, command: str) -> bytes:
    """The bytes to send: ``{pin:NAME}`` becomes Lc and that PIN of the card."""
    match = PIN_SLOT.search(command)
    if match is not None:
        value = (card.created_pins or {})[PinName(match.group(1))].encode("ascii")
        command = (
            command[: match.start()] + f"{len(value):02X}" + value.hex() + command[match.end() :]
        )
    return bytes.fromhex(command)


def run_flow(card: Card, name: str) -> Iterator[tuple[str, str]]:
    """(redacted command, response hex) for each exchange of the flow, as the recorder saw it."""
    with Recorder().attach(card) as recorder:
        last_header = b""
        for step in FLOWS[name]:
            if step.startswith("@cert:"):
                size = int.from_bytes(last_header[2:4], "big") + 4
                commands = chunked_reads(size, first=len(last_header))
            else:
                commands = [step]
            for command in commands:
                raw = _expand(card, command)
                response = card.transmit(raw)
                if raw[1] == 0xB0 and raw[2:4] == b"\x00\x00":
                    last_header = response[:-2]
    for entry in recorder.entries:
        if entry.is_exchange:
            yield entry.command or "", entry.response or ""
