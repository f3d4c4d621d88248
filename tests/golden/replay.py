"""Run a flow against a card: expand the flow's tokens and record what the card says.

Tokens (tests/golden/flows.py): ``{pin:NAME}`` is Lc and the ASCII bytes of that PIN of the card;
``@cert:FID`` reads the rest of a ``30 82 hh ll`` certificate in 256-byte chunks (OpenSC);
``@tlv`` reads the whole BER object whose header the last offset-0 READ BINARY returned, from offset
0 in 256-byte chunks (jpki-rs ``read_der_size`` then ``read``); ``@read-session-key`` reads text EF
0006 by SFI with an extended Le (jsapdu) and keeps its key; ``@sm-open:SEED`` sends SET SESSION KEY
for that 32-byte seed (fixed OAEP seed); ``@sm:APDU`` sends a plain APDU under secure messaging;
``@sm-skip`` makes the terminal lose step with the card's counter (one number skipped).

One driver (:func:`drive`) sends a flow through any transmit function. In-process
(:func:`run_flow`) the transcript lines are what the public kit's recorder
(``card_emulator.recorder.Recorder``) saw on ``card.transmit``, so transcripts and traces redact PINs
the same way; through pcscd (:func:`replay`, the card served in another process) they are the same
redaction (``apdu.redact_command``) applied to what the client sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from apdu import redact_command
from card_emulator import Card, PinName
from card_emulator.recorder import Recorder
from tests.golden.flows import FLOWS, chunked_reads
from tests.sm_client import Terminal, parse_session_key_file

PIN_SLOT = re.compile(r"\{pin:([a-z_]+)\}")
Transmit = Callable[[bytes], bytes]


def _expand(pins: Mapping[PinName, str], command: str) -> bytes:
    """The bytes to send: ``{pin:NAME}`` becomes Lc and that PIN of the card."""
    match = PIN_SLOT.search(command)
    if match is not None:
        value = pins[PinName(match.group(1))].encode("ascii")
        command = (
            command[: match.start()] + f"{len(value):02X}" + value.hex() + command[match.end() :]
        )
    return bytes.fromhex(command)


def _tlv_size(header: bytes) -> int:
    """Total size of the BER object starting in ``header`` (its value may be cut short)."""
    tag_size = 2 if header[0] & 0x1F == 0x1F else 1
    lead = header[tag_size]
    if lead < 0x80:
        return tag_size + 1 + lead
    n = lead & 0x7F
    return tag_size + 1 + n + int.from_bytes(header[tag_size + 1 : tag_size + 1 + n], "big")


def drive(
    transmit: Transmit, pins: Mapping[PinName, str], name: str
) -> Iterator[tuple[bytes, bytes]]:
    """(command, response) as raw bytes for each APDU of flow ``name``, sent through ``transmit``."""
    last_header = b""
    terminal: Terminal | None = None
    session_key = None
    for step in FLOWS[name]:
        if step.startswith("@cert:"):
            size = int.from_bytes(last_header[2:4], "big") + 4
            commands = [bytes.fromhex(c) for c in chunked_reads(size, first=len(last_header))]
        elif step == "@tlv":
            commands = [bytes.fromhex(c) for c in chunked_reads(_tlv_size(last_header))]
        elif step == "@read-session-key":
            raw = bytes.fromhex("00B08600000000")
            response = transmit(raw)
            if response[-2:] == b"\x90\x00":
                session_key = parse_session_key_file(response[:-2])
            yield raw, response
            continue
        elif step.startswith("@sm-open:"):
            assert session_key is not None, "read the session key first"
            terminal, apdu = Terminal.open(session_key, bytes.fromhex(step[9:]))
            yield apdu, transmit(apdu)
            continue
        elif step == "@sm-skip":
            assert terminal is not None
            terminal.counter += 1
            continue
        elif step.startswith("@sm:"):
            assert terminal is not None
            apdu = terminal.wrap(_expand(pins, step[4:]))
            terminal.counter += 1
            yield apdu, transmit(apdu)
            continue
        else:
            commands = [_expand(pins, step)]
        for raw in commands:
            response = transmit(raw)
            if raw[1] == 0xB0 and raw[2:4] == b"\x00\x00":
                last_header = response[:-2]
            yield raw, response


def replay(transmit: Transmit, pins: Mapping[PinName, str], name: str) -> Iterator[tuple[str, str]]:
    """(redacted command, response hex) for each APDU of flow ``name`` sent through ``transmit``
    (a pyscard connection to a served card): the client's side of the transcript."""
    for command, response in drive(transmit, pins, name):
        yield redact_command(command), response.hex().upper()


def run_flow(card: Card, name: str) -> Iterator[tuple[str, str]]:
    """(redacted command, response hex) for each exchange of the flow on ``card``, in-process with
    the PINs it was created with, as the kit's recorder saw them."""
    with Recorder().attach(card) as recorder:
        for _exchange in drive(card.transmit, card.created_pins or {}, name):
            pass
    for entry in recorder.entries:
        if entry.is_exchange:
            yield entry.command or "", entry.response or ""
