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

SURFACE = "00A4040C0AD3921000310001010402"
COMMON = "00A4040C0AD3921000310001010100"
ISSUER_SECURITY_DOMAIN = "00A4040C07A0000001510000"
CHALLENGE = "0123456789ABCDEF0123456789ABCDEF"  # 16 bytes, as the 券面 protocol uses
AP_SIGN = f"802A000033{SHA256_DIGEST_INFO}00"  # the AP key, no credential (§2.6)
SM_SEED = "00112233445566778899AABBCCDDEEFF" * 2  # the terminal's session seed (a test value)

FLOWS.update(
    {
        # jpki-rs `surface get` with 照合番号A: SELECT EF + VERIFY (sent twice, as jpki-rs does),
        # 7 bytes for the size, then the whole EF 0002 from 0; then EF 0005 and 0004 the same way
        "surface_face_code_a": [
            SURFACE,
            "00A4020C020013",
            "00200080",
            "00200080{pin:surface_code_a}",
            "00200080{pin:surface_code_a}",
            "00A4020C020002",
            "00B0000007",
            "@tlv",
            "00A4020C020005",
            "00B0000007",
            "@tlv",
            "00A4020C020004",
            "00B0000007",
            "@tlv",
        ],
        # jsapdu `kenkaku/read-entries` with 照合番号B: VERIFY by SFI, whole EFs by SFI with an
        # extended Le; B does not open EF 0005 (§6.1), the card key signs a challenge
        "surface_face_code_b": [
            SURFACE,
            "00200092{pin:surface_code_b}",
            "00B08200000000",
            "00B08500000000",
            "00B08300000000",
            "00B08600000000",
            AP_SIGN,
            f"0088009A10{CHALLENGE}00",
        ],
        # jsapdu `kenkaku/read-certificate`: the birth-date key opens the age record only
        "surface_age_record": [
            SURFACE,
            "00200091",
            "00200091{pin:surface_birth_date}",
            "00B08400000000",
            "00B08100000000",
            "00B08200000000",
            "80AE0000",
        ],
        # jsapdu `kenhojo/read-certificate`: PIN by SFI, then EF 0004 and 0007 by SFI; EF 0006,
        # 0008; the blocked reference 0012; the AP key 0013 signs, INTERNAL AUTHENTICATE refuses
        "text_key_files": [
            TEXT,
            "00B08700000000",
            "00200091{pin:text_input_helper}",
            "00B08400000000",
            "00B08700000000",
            "00B08600000000",
            "00B08800000000",
            "00A4020C020012",
            "00200080",
            "002000800430303030",
            AP_SIGN,
            f"0088009310{CHALLENGE}00",
        ],
        # myna-rs `unknown manufacture`: record 1 of SFI 1; the key record; the PIN's own counter;
        # INTERNAL AUTHENTICATE with key 0019, no PIN
        "common_card_info": [
            COMMON,
            "00B2010C00",
            "00A4020C020002",
            "00B2010400",
            "00A4020C02001C",
            "00200080",
            "00200080{pin:common}",
            f"0088009910{CHALLENGE}00",
            "80AE0000",
        ],
        # §8: the MF objects at MF level (short Le for the small ones; 00F8 refuses a short Le),
        # an absent one, and none of them with an application selected (5F51 excepted)
        "mf_get_data": [
            ISSUER_SECURITY_DOMAIN,
            "00CA004200",
            "00CA004500",
            "00CA006600",
            "00CA00F000",
            "00CA00F200",
            "00CA00F700",
            "00CA00F800",
            "00CA00F8000000",
            "00CA7F21000000",
            "00CA5F5100",
            "00CA010100",
            JPKI,
            "00CA00F000",
            "00CA5F5100",
        ],
        # SELECT by a DF-name prefix (JICSAP 4.2(1)); P2 0C first, 0E next, 0D last (ISO 7816-4);
        # order: ascending AID. An EF only one AP has shows which one is current.
        "prefix_select": [
            "00A4040C08D392100031000101",
            "00A4020C020019",  # 共通AP
            "00A4040E08D392100031000101",
            "00A4020C020011",  # 住基AP: no 0011
            "00A4020C020003",
            "00A4040E08D392100031000101",
            "00A4020C02001A",  # 券面事項確認AP
            "00A4040E08D392100031000101",
            "00A4020C020014",  # 券面事項入力補助AP
            "00A4040E08D392100031000101",  # no further occurrence
            "00A4040D02D392",
            "00A4020C02001B",  # JPKI AP, the last D392…
            "00A4040C02D393",
        ],
        # §5.7: secure messaging after the PIN in clear; the My Number read under SM; a plain
        # command in between costs no counter; a lost counter ends the session (6988, then 69FC)
        "text_sm_read_my_number": [
            TEXT,
            "@read-session-key",  # 6982: nothing verified yet
            "00A4020C020014",
            "00200080{pin:text_code_a}",
            "@read-session-key",
            f"@sm-open:{SM_SEED}",  # 6982: 照合番号A does not open a session
            "00A4020C020011",
            "00200080{pin:text_input_helper}",
            f"@sm-open:{SM_SEED}",
            "@sm:00A4020C020001",
            "@sm:00B00000",
            "00A4020C020005",
            "@sm:00200094{pin:text_code_a}",
            "@sm:00A4020C020001",
            "@sm:00B0000011",
            "@sm-skip",
            "@sm:00A4020C020002",
            "@sm:00B00000",
            "00B0000011",  # plain commands still work
        ],
    }
)
