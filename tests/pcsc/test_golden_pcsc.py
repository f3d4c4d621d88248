"""The golden transcripts again, through the real pcscd + vpcd, driven with pyscard.

One served card of the golden seed runs every flow in turn (each flow starts with its own SELECT);
the two that change the card (a CHANGE KEY, a lock) come last. The responses must be the in-process
transcripts byte for byte: the transport adds nothing and loses nothing, extended APDUs included.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from card_emulator import Card
from tests.golden.flows import FLOWS, SEED
from tests.golden.replay import replay
from tests.pcsc.conftest import READER_0, ServerFactory, connect
from tests.test_golden_transcripts import load

pytestmark = pytest.mark.pcsc

CHANGING = ("juki_change_key", "jpki_lock")  # they change counters or values: run them last
ORDER = [name for name in sorted(FLOWS) if name not in CHANGING] + list(CHANGING)


def test_golden_flows_through_pcscd(serve: ServerFactory, tmp_path: Path) -> None:
    from smartcard.Exceptions import CardConnectionException

    path = tmp_path / "golden.card"
    with Card.create(path, seed=SEED) as card:
        pins = dict(card.created_pins or {})
    server = serve(str(path), "--reader", "0")
    server.start()
    connection = connect(READER_0)

    def transmit(raw: bytes) -> bytes:
        data, sw1, sw2 = connection.transmit(list(raw))
        return bytes(data) + bytes([sw1, sw2])

    try:
        for name in ORDER:
            assert list(replay(transmit, pins, name)) == load(name), name
    finally:
        with contextlib.suppress(CardConnectionException):
            connection.disconnect()
    assert server.stop() == 0
