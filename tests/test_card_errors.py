"""Every malformed or refused APDU gets a proper status word (card-interface.md §1.3, §2, §9, §13)."""

from __future__ import annotations

import pytest

from card_emulator import Card
from card_emulator.rules import AppName
from tests.helpers import select_app, send, sw_of

JPKI = "00A4040C0AD392F000260100000001"


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("00", 0x6700),  # shorter than a header
        ("00A404", 0x6700),
        ("00A4040C0AD392F0", 0x6700),  # Lc says more than there is
        ("00A4040C02D392F000", 0x6700),  # trailing garbage: neither case 3S nor 4S
        ("00A4040C0AD392F000260100000099", 0x6A82),  # unknown AID
        ("00A4040C05D392F00026", 0x9000),  # a prefix selects (JICSAP 4.2(1), §2.1)
        ("00A4040C05D392F00027", 0x6A82),  # a prefix of no DF name
        ("00A4020C020018", 0x6A82),  # no EF before an application (§1.4)
        ("00A40000", 0x6A86),  # MF right after reset (§1.4)
        ("00A4000C023F00", 0x6A82),  # 3F00 by FID (§1.4)
        ("00A4080C023F00", 0x6A86),
        ("00A4040C", 0x6700),  # no AID
        ("00A40410" + "0AD392F000260100000001", 0x6A86),  # P2 not 0X (ISO 7816-4 §7.1.1)
        ("00EE0000", 0x6D00),  # unknown INS
        ("00B0000004", 0x6986),  # no EF at MF level
        ("00200080", 0x6986),
        ("01A4040C0AD392F000260100000001", 0x6881),  # logical channel 1
        ("41A4040C0AD392F000260100000001", 0x6881),  # further channel
        ("A0A4040C0AD392F000260100000001", 0x6E00),  # unknown class
        ("FFA4040C0AD392F000260100000001", 0x6E00),
        ("10A4040C0AD392F000260100000001", 0x6884),  # command chaining not offered
        ("0CA4040C0AD392F000260100000001", 0x6882),  # secure messaging on SELECT (§1.3)
        ("0084000008", 0x9000),  # GET CHALLENGE at MF level
        ("0084000100", 0x6A86),
        ("00840000", 0x6700),
        ("00840000000008", 0x6985),  # extended Le (§1.3)
        ("00CA5F5100", 0x9000),  # the ATR without TS (§1.2)
        ("00CA004200", 0x9000),  # an MF-level object (§8)
        ("00CA010100", 0x6A88),  # absent
        ("002C000000", 0x6D00),  # RESET RETRY COUNTER is not a user APDU (§10.3)
        ("00C0000000", 0x6985),  # nothing waiting for GET RESPONSE
    ],
)
def test_at_mf_level(card: Card, apdu: str, sw: int) -> None:
    assert sw_of(card, apdu) == sw


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("00A4020C020099", 0x6A82),  # unknown EF
        ("00A4020C0300", 0x6700),  # FID of one byte
        ("00A4020C03000A00", 0x6700),
        ("00A40000", 0x9000),  # MF with an AP selected: 9000, nothing changes (§1.4)
        ("00B0000004", 0x6986),  # no EF selected yet
        ("00EE0000", 0x6D00),
        ("80EE0000", 0x6D00),
        ("80FC0000", 0x6700),  # last-command indicator: physical card answers 6700 (§2.7)
        ("80540000", 0x6982),  # UNLOCK KEY needs issuer authentication
        ("80AE000000", 0x6982),  # SET SESSION KEY: JPKI has no SM (§2.7)
        ("80A20000", 0x6A86),
        ("0CB0000004", 0x69FC),  # SM READ in JPKI (§1.3)
        ("08200080", 0x69FC),
    ],
)
def test_in_jpki(card: Card, apdu: str, sw: int) -> None:
    assert sw_of(card, JPKI) == 0x9000
    assert sw_of(card, apdu) == sw


def test_read_binary_offsets_and_lengths(card: Card) -> None:
    select_app(card, AppName.JPKI)
    assert sw_of(card, "00A4020C020006") == 0x9000  # 160 bytes
    assert send(card, "00B0000001") == (b"J", 0x9000)
    data, sw = send(card, "00B0009F00")  # offset 159, Le 256: a short read at the end
    assert (len(data), sw) == (1, 0x9000)
    assert send(card, "00B000A001") == (b"", 0x6B00)  # offset 160: past the end
    assert send(card, "00B07FFF01") == (b"", 0x6B00)
    assert send(card, "00B00000")[1] == 0x6700  # no Le
    data, sw = send(card, "00B00000000000")  # extended Le 65536
    assert (len(data), sw) == (160, 0x9000)
    data, sw = send(card, "00B000000000A0")  # extended Le 160
    assert (len(data), sw) == (160, 0x9000)
    # Short EF form: P1 = 80 + SFI, P2 = offset (§2.2); it also makes the EF current.
    assert sw_of(card, "00A4020C02000A") == 0x9000
    data, sw = send(card, "00B0860004")
    assert (data, sw) == (b"JPKI", 0x9000)
    assert send(card, "00B0000004")[0] == b"JPKI"


@pytest.mark.parametrize("fid", ["0017", "0018", "001A", "001B"])
def test_key_and_pin_efs_are_unreadable(card: Card, fid: str) -> None:
    select_app(card, AppName.JPKI)
    assert sw_of(card, "00A4020C02" + fid) == 0x9000
    assert sw_of(card, "00B0000004") == 0x6981


def test_transmit_never_raises_on_a_bug(card: Card, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> bytes:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Card, "_select", broken)
    assert card.transmit(bytes.fromhex(JPKI)) == b"\x6f\x00"


def test_atr_and_get_data(card: Card) -> None:
    assert card.atr == bytes.fromhex("3BE000FF8131FE4514")
    data, sw = send(card, "00CA5F5100")
    assert sw == 0x9000 and b"\x3b" + data == card.atr
