"""The client flows of card-interface.md §4.4 and §5, as command lists for golden transcripts.

``{pin:NAME}`` stands for Lc and the ASCII bytes of that PIN of the card. Transcripts write every
command that carries a PIN (VERIFY, CHANGE) with its data redacted, so no PIN is written into them.
Regenerate the transcripts after an intended change with
``.venv/bin/python -m tests.golden.record`` and review the diff.
"""

from __future__ import annotations

import hashlib

SEED = 7
JPKI = "00A4040C0AD392F000260100000001"
TEXT = "00A4040C0AD3921000310001010408"
JUKI = "00A4040C0AD3921000310001010401"
SHA256_DIGEST_INFO = (
    "3031300D060960864801650304020105000420" + hashlib.sha256(b"golden").hexdigest()
)
SIGN = f"802A008033{SHA256_DIGEST_INFO}00"


def chunked_reads(size: int, first: int = 0) -> list[str]:
    reads = []
    offset = first
    while offset < size:
        n = min(256, size - offset)
        reads.append(f"00B0{offset:04X}{n & 0xFF:02X}")
        offset += n
    return reads


FLOWS: dict[str, list[str]] = {
    # OpenSC: SELECT AP, SELECT EF, 4 bytes, then chunks to the DER length (card-jpki.c)
    "jpki_read_auth_certificate": [JPKI, "00A4020C02000A", "00B0000004", "@cert:000A"],
    # §4.4 auth signature: PIN EF, VERIFY, key EF, COMPUTE DIGITAL SIGNATURE
    "jpki_auth_signature": [
        JPKI,
        "00A4020C020018",
        "00200080{pin:user_auth}",
        "00A4020C020017",
        SIGN,
    ],
    # §4.4 sign (CMS/PDF): password, signing certificate (7 bytes, then the rest), key, signature
    "jpki_sign_cms": [
        JPKI,
        "00A4020C02001B",
        "00200080{pin:signing}",
        "00A4020C020001",
        "00B0000007",
        "@cert:0001",
        "00A4020C02001A",
        SIGN,
    ],
    # §4.4 tries: the empty VERIFY spends nothing, also after a success
    "jpki_tries": [
        JPKI,
        "00A4020C020018",
        "00200080",
        "00A4020C02001B",
        "00200080",
        "00A4020C020018",
        "00200080{pin:user_auth}",
        "00200080",
    ],
    # pin-rules.md §2: three wrong entries lock; the right value is refused afterwards
    "jpki_lock": [
        JPKI,
        "00A4020C020018",
        "002000800430303030",
        "002000800431313131",
        "002000800432323232",
        "00200080{pin:user_auth}",
        "00200080",
    ],
    # §5: the My Number with the PIN, then the basic four
    "text_my_number_and_basic_four": [
        TEXT,
        "00A4020C020011",
        "00200080{pin:text_input_helper}",
        "00A4020C020001",
        "00B0000011",
        "00A4020C020002",
        "00B0000000",
    ],
    # §5.1: 照合番号B opens the basic four but not the My Number; free EF 0005
    "text_code_b": [
        TEXT,
        "00A4020C020015",
        "00200080{pin:text_code_b}",
        "00A4020C020001",
        "00B0000011",
        "00A4020C020002",
        "00B0000000",
        "00A4020C020005",
        "00B0000000",
    ],
    # §5.4: 照合番号A and the integrity record
    "text_code_a_integrity": [
        TEXT,
        "00A4020C020014",
        "00200080{pin:text_code_a}",
        "00A4020C020003",
        "00B0000000",
        "00B0010050",
    ],
    # §7.1: 住基 PIN, CHANGE KEY
    "juki_change_key": [
        JUKI,
        "00A4020C02001C",
        "00200080",
        "00200080{pin:resident_registry}",
        "803200800439373533",  # CHANGE KEY to 9753 (a test value), then VERIFY it
        "00A4020C02001C",
        "002000800439373533",
        "00A4020C020002",
        "00B2010400",
    ],
}
