"""Record the client's conversation with a TEST card as a trace, for a regression test.

    .venv/bin/python examples/sample_client/record_trace.py

writes ``traces/sign_and_read.jsonl`` (PINs redacted); ``test_sample_client.py`` replays it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mynacard_client import MyNumberClient

from card_emulator import PinName
from card_emulator.testing import Recorder, new_card

HERE = Path(__file__).parent
DIGEST_INFO = (
    bytes.fromhex("3031300D060960864801650304020105000420") + hashlib.sha256(b"x").digest()
)


def main() -> None:
    card = new_card(seed=7)
    pins = card.created_pins or {}
    path = HERE / "traces" / "sign_and_read.jsonl"
    with Recorder(path).attach(card):
        client = MyNumberClient(card.transmit)
        client.read_auth_certificate()
        client.sign_with_auth_key(pins[PinName.USER_AUTH], DIGEST_INFO)
        client.read_basic_four(pins[PinName.TEXT_INPUT_HELPER])
        client.auth_tries_left()
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
