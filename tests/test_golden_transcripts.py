"""Golden transcripts of real client flows (card-interface.md §4.4, §5): byte for byte, every time.

The card is deterministic for a seed (keys, certificates, EFs, PKCS#1 v1.5 signatures), so a
transcript recorded once must replay exactly; any difference is a change of behaviour to review.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card_emulator.testing import new_card
from tests.golden.flows import FLOWS, SEED
from tests.golden.replay import run_flow

GOLDEN = Path(__file__).parent / "golden"


def load(name: str) -> list[tuple[str, str]]:
    lines = [
        line
        for line in (GOLDEN / f"{name}.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return [(c[2:], r[2:]) for c, r in zip(lines[::2], lines[1::2], strict=True)]


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_flow_replays_byte_for_byte(name: str) -> None:
    card = new_card(seed=SEED)
    assert list(run_flow(card, name)) == load(name)


def test_no_pin_is_written_into_a_transcript() -> None:
    card = new_card(seed=SEED)
    pins = {value.encode().hex().upper() for value in (card.created_pins or {}).values()}
    for path in GOLDEN.glob("*.txt"):
        for line in path.read_text().splitlines():
            if line.startswith("> "):
                assert not any(pin in line[2:] for pin in pins), (path.name, line)
                if line[4:6] in ("20", "24") or line[2:6] == "8032":  # VERIFY, CHANGE
                    assert len(line) == 10 or "redacted" in line, (path.name, line)


@pytest.mark.parametrize(
    ("flow", "cert"), [("jpki_auth_signature", "user_auth"), ("jpki_sign_cms", "signing")]
)
def test_golden_signatures_verify_with_the_card_certificate(flow: str, cert: str) -> None:
    card = new_card(seed=SEED)
    signature = bytes.fromhex(load(flow)[-1][1])[:-2]
    certificate: x509.Certificate = card.issuer.certificates()[cert]
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"golden", padding.PKCS1v15(), hashes.SHA256())
    certificate.verify_directly_issued_by(card.issuer.certificates()[cert + "_ca"])
