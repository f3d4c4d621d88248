"""SHA-256 pins of everything a generated card is made of, for a few seeds and variants.

Every private key (PKCS#8 DER), certificate and EF, every record, the card's metadata, the initial
PINs (one digest over all of them, never a value) and the signatures of the deterministic schemes
(P1 = 00–03) are pinned in ``card_digests.json``. A change that alters one byte of them fails
``tests/test_byte_pins.py``. When a change is intended, regenerate with
``.venv/bin/python -m tests.golden.card_digests`` and review the diff: a pinned value only ever
changes knowingly. New entries (a new EF, a new key) are added by the same command.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from card_emulator import Card, cv, pki
from card_emulator.issuance import issue_card
from card_emulator.rules import APP_AIDS, AppName

PINS_FILE = Path(__file__).with_name("card_digests.json")

# name -> keyword arguments of Card.create / issue_card
CONFIGS: dict[str, dict[str, Any]] = {
    "seed0": {"seed": 0},
    "seed1": {"seed": 1},
    "seed7": {"seed": 7},
    "seed_large": {"seed": 2**64 + 13},
    "seed1_under15": {"seed": 1, "variant": "under15"},
    "seed7_expired": {"seed": 7, "variant": "expired"},
    "seed0_overrides": {
        "seed": 0,
        "issued": date(2030, 1, 15),
        "name": "試験　花子",
        "address": "東京都千代田区霞が関１－１－１",
        "birth_date": date(1992, 2, 29),
        "sex": "2",
        "user_auth": "1234",
        "signing": "TEST1234AB",
    },
}

# The fixed TEST keys every card shares (test CAs, text AP issuer and CA, the CV keys of the MF
# objects and of the card-surface AP).
FIXED_KEYS = {
    "signing_ca": lambda: pki.test_ca("signing").key,
    "user_auth_ca": lambda: pki.test_ca("user_auth").key,
    "text_ap_ca": pki.text_ap_ca_key,
    "text_ap_issuer": pki.text_ap_issuer_key,
    "cv_mf_root": cv.mf_root_key,
    "cv_mf_intermediate": cv.mf_intermediate_key,
    "cv_mf_card": cv.mf_card_key,
    "cv_surface_ca": cv.surface_ca_key,
    "cv_surface_issuer": cv.surface_issuer_key,
    # Any label: the derivation itself (pki.deterministic_rsa_key), edge labels included.
    "label_empty": lambda: pki.deterministic_rsa_key(b""),
    "label_test_pki_signing": lambda: pki.deterministic_rsa_key(b"test_pki signing"),
    "label_binary": lambda: pki.deterministic_rsa_key(bytes(range(256))),
}

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SHA256_INFO = bytes.fromhex("3031300D060960864801650304020105000420")
SHA1_INFO = bytes.fromhex("3021300906052B0E03021A05000414")
SHA384_INFO = bytes.fromhex("3041300D060960864801650304020205000430")
SHA512_INFO = bytes.fromhex("3051300D060960864801650304020305000440")
# (P1, data): DigestInfo blocks as OpenSC sends them, a block that is no DigestInfo, a bare hash,
# and the card-hashes forms. PSS (P1 = 04, 05) is randomised and not pinned.
SIGN_CASES: dict[str, tuple[int, bytes]] = {
    "p1_00_sha256_info": (0x00, SHA256_INFO + hashlib.sha256(b"pin").digest()),
    "p1_00_sha1_info": (0x00, SHA1_INFO + hashlib.sha1(b"pin").digest()),
    "p1_00_sha384_info": (0x00, SHA384_INFO + hashlib.sha384(b"pin").digest()),
    "p1_00_sha512_info": (0x00, SHA512_INFO + hashlib.sha512(b"pin").digest()),
    "p1_00_not_info": (0x00, b"not a DigestInfo, signed as given"),
    "p1_00_bare_hash": (0x00, hashlib.sha256(b"pin").digest()),
    "p1_01": (0x01, b"the card hashes this"),
    "p1_02": (0x02, hashlib.sha256(b"pin").digest()),
    "p1_03": (0x03, b"the card hashes this too"),
}
# key EF -> (PIN EF, PIN name)
KEY_PINS = {0x0017: (0x0018, "user_auth"), 0x001A: (0x001B, "signing")}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _der(key: Any) -> bytes:
    data: bytes = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data


def _transmit(card: Card, apdu: bytes) -> bytes:
    response = card.transmit(apdu)
    if response[-2:] != b"\x90\x00":
        raise AssertionError(f"{apdu.hex()} -> {response.hex()}")
    return response[:-2]


def _signatures(card: Card, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pins = card.created_pins or {}
    for key_fid, (pin_fid, pin_name) in KEY_PINS.items():
        if not card.issuer.certificates().get("signing") and key_fid == 0x001A:
            continue
        value = next(v for k, v in pins.items() if k.value == pin_name).encode()
        for case, (p1, data) in SIGN_CASES.items():
            _transmit(card, SELECT_JPKI)
            _transmit(card, bytes.fromhex(f"00A4020C02{pin_fid:04X}"))
            _transmit(card, bytes.fromhex("00200080") + bytes([len(value)]) + value)
            apdu = bytes([0x80, 0x2A, p1, 0x80 | key_fid, len(data)]) + data + b"\x00"
            out[f"{prefix}sign/{key_fid:04X}/{case}"] = _sha(_transmit(card, apdu))
    return out


def _select(aid: bytes) -> bytes:
    return bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid


def _ap_key_signatures(card: Card) -> dict[str, str]:
    """The keys that sign with no credential: the text AP key 0013 and the card-surface AP key
    001A (``80 2A 00 00``, PKCS#1 v1.5 over the block), the common AP key 0019 (INTERNAL
    AUTHENTICATE, PKCS#1 v1.5 SHA-256 of the challenge)."""
    out: dict[str, str] = {}
    block = SHA256_INFO + hashlib.sha256(b"pin").digest()
    for app, fid in ((AppName.TEXT, 0x0013), (AppName.SURFACE, 0x001A)):
        _transmit(card, _select(APP_AIDS[app]))
        apdu = bytes([0x80, 0x2A, 0x00, 0x00, len(block)]) + block + b"\x00"
        out[f"sign/{app.value}/{fid:04X}/p1_00_sha256_info"] = _sha(_transmit(card, apdu))
    _transmit(card, _select(APP_AIDS[AppName.COMMON]))
    challenge = b"challenge of 16b"
    apdu = bytes([0x00, 0x88, 0x00, 0x99, len(challenge)]) + challenge + b"\x00"
    out["internal_authenticate/common/0019"] = _sha(_transmit(card, apdu))
    return out


def config_digests(name: str) -> dict[str, str]:
    """Every pinned digest of one configuration, keyed ``kind/APP/FID[/n]``."""
    kwargs = dict(CONFIGS[name])
    image = issue_card(**kwargs)
    out: dict[str, str] = {}
    for (app, fid), data in image.files.items():
        out[f"file/{app.value}/{fid:04X}"] = _sha(data)
    for (app, fid), rows in image.records.items():
        for number, data in enumerate(rows, start=1):
            out[f"record/{app.value}/{fid:04X}/{number}"] = _sha(data)
    for (app, fid), der in image.keys.items():
        out[f"key/{app.value}/{fid:04X}"] = _sha(der)
    pins = json.dumps({k.value: v for k, v in sorted(image.pins.items())}, sort_keys=True)
    out["pins/initial"] = _sha(pins.encode())

    # The same through Card.create: what the card's store holds must be what was issued.
    with Card.create(None, **kwargs) as card:
        store = card._store
        for key, value in store.meta().items():
            out[f"meta/{key}"] = _sha(value.encode())
        if store.files() != image.files or store.keys() != image.keys:
            raise AssertionError(f"{name}: the card's store differs from the issued image")
        if store.records() != image.records:
            raise AssertionError(f"{name}: the card's records differ from the issued image")
        out.update(_signatures(card, ""))
        out.update(_ap_key_signatures(card))
    return out


def fixed_key_digests() -> dict[str, str]:
    return {f"key/{name}": _sha(_der(make())) for name, make in FIXED_KEYS.items()}


def all_digests() -> dict[str, dict[str, str]]:
    result = {name: config_digests(name) for name in CONFIGS}
    result["fixed"] = fixed_key_digests()
    return result


def main() -> None:
    digests = all_digests()
    PINS_FILE.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINS_FILE} ({sum(len(v) for v in digests.values())} digests)")


if __name__ == "__main__":
    main()
