"""Refusals explained in terms of the client's own history (issue 7, card-interface.md §15)."""

from __future__ import annotations

import pytest

from card_emulator import AppName, Card, PinName
from card_emulator.recorder import Recorder
from card_emulator.testing import (
    select_app,
    select_app_apdu,
    select_ef,
    send,
    sign,
    verify,
    verify_apdu,
)
from card_emulator.trace import TraceEntry


def diagnosis(recorder: Recorder, sw: str) -> str:
    entry = next(e for e in reversed(recorder.entries) if e.is_exchange and e.sw == sw)
    assert entry.diagnosis is not None, entry
    return entry.diagnosis


def last(recorder: Recorder) -> TraceEntry:
    return [e for e in recorder.entries if e.is_exchange][-1]


def test_a_reselect_between_verify_and_sign_is_named_with_its_exchanges(
    mynacard: Card, mynacard_trace: Recorder
) -> None:
    """pyjpki's mistake: SELECT the AP again after VERIFY; the card is right to refuse."""
    verify(mynacard, PinName.USER_AUTH, (mynacard.created_pins or {})[PinName.USER_AUTH])
    select_app(mynacard, AppName.JPKI)  # exchange 4
    assert sign(mynacard, 0x0017, b"\x30" * 35)[1] == 0x6982
    assert diagnosis(mynacard_trace, "6982").startswith(
        "COMPUTE DIGITAL SIGNATURE of EF 0017 needs a VERIFY of the user-authentication PIN; "
        "the user-authentication PIN was verified at exchange 3 and cleared by the SELECT of "
        "the JPKI AP at exchange 4"
    )


def test_a_read_never_verified_says_since_when(mynacard: Card, mynacard_trace: Recorder) -> None:
    select_app(mynacard, AppName.TEXT)
    assert select_ef(mynacard, 0x0002) == 0x9000
    assert send(mynacard, "00B0000000")[1] == 0x6982
    text = diagnosis(mynacard_trace, "6982")
    assert text == (
        "READ BINARY of EF 0002 needs a VERIFY of the text-input-helper PIN or the verification "
        "code B; none of them has been verified since the SELECT of the text input helper AP at "
        "exchange 1"
    )


def test_a_power_off_and_a_wrong_entry_clear_a_pin_and_say_so(
    mynacard: Card, mynacard_trace: Recorder
) -> None:
    right = (mynacard.created_pins or {})[PinName.SIGNING]
    verify(mynacard, PinName.SIGNING, right)
    mynacard.power_off()
    mynacard.power_on()
    select_app(mynacard, AppName.JPKI)
    select_ef(mynacard, 0x0001)
    assert send(mynacard, "00B0000004")[1] == 0x6982
    assert "cleared by a power-off after exchange 3" in diagnosis(mynacard_trace, "6982")
    verify(mynacard, PinName.SIGNING, right)  # exchanges 7-9
    assert send(mynacard, verify_apdu("WRONG1"))[1] == 0x63C4  # 10
    select_ef(mynacard, 0x0001)
    assert send(mynacard, "00B0000004")[1] == 0x6982
    assert "verified at exchange 9 and cleared by a wrong entry at exchange 10" in diagnosis(
        mynacard_trace, "6982"
    )


@pytest.mark.mynacard(seed=3)
def test_a_lock_tells_which_exchanges_spent_the_tries(
    mynacard: Card, mynacard_trace: Recorder
) -> None:
    for _ in range(3):
        verify(mynacard, PinName.USER_AUTH, "0000")
    assert "no tries left, the PIN is now locked" in diagnosis(mynacard_trace, "63C0")
    assert verify(mynacard, PinName.USER_AUTH, "0000") == 0x6984
    text = diagnosis(mynacard_trace, "6984")
    assert "is locked: its last try went at exchange 9 (wrong entries at exchanges 3, 6, 9)" in text
    assert "only an issuer reset" in text


@pytest.mark.mynacard(locked=["user_auth"])
def test_a_pin_locked_before_the_trace_says_so(mynacard: Card, mynacard_trace: Recorder) -> None:
    assert verify(mynacard, PinName.USER_AUTH, "0000") == 0x6984
    assert "was already locked when this trace began" in diagnosis(mynacard_trace, "6984")


def test_an_apdu_sent_twice_is_pointed_out(mynacard: Card, mynacard_trace: Recorder) -> None:
    """jpki-rs transmits each APDU twice: a wrong PIN costs two tries."""
    select_app(mynacard, AppName.JPKI)
    select_ef(mynacard, 0x0018)
    send(mynacard, verify_apdu("0000"))
    send(mynacard, verify_apdu("0000"))
    text = diagnosis(mynacard_trace, "63C1")
    assert "(an earlier wrong entry at exchange 3)" in text
    send(mynacard, verify_apdu("0000"))
    assert "(earlier wrong entries at exchanges 3, 4)" in diagnosis(mynacard_trace, "63C0")
    assert "repeats exchange 3 byte for byte" in text


def test_not_found_and_nothing_selected_point_at_the_right_place(
    mynacard: Card, mynacard_trace: Recorder
) -> None:
    assert send(mynacard, "00B0000004")[1] == 0x6986
    assert "no application is selected" in diagnosis(mynacard_trace, "6986")
    select_app(mynacard, AppName.TEXT)
    assert select_ef(mynacard, 0x0018) == 0x6A82
    assert "EF 0018 is in the JPKI AP, but the current application is the text input helper AP" in (
        diagnosis(mynacard_trace, "6A82")
    )
    assert send(mynacard, select_app_apdu(AppName.JPKI)[:-1] + b"\x02")[1] == 0x6A82
    assert "no application with AID D392F000260100000002 on this card" in (
        diagnosis(mynacard_trace, "6A82")
    )
    select_app(mynacard, AppName.TEXT)
    assert send(mynacard, "803200800431323334")[1] == 0x6D00
    assert "CHANGE KEY exists only in the resident registry AP and the common card AP" in diagnosis(
        mynacard_trace, "6D00"
    )
    assert send(mynacard, "802A00800401020304")[1] == 0x6A86
    assert "the JPKI keys (EF 0017, 001A) sign in the JPKI AP" in diagnosis(mynacard_trace, "6A86")


@pytest.mark.mynacard(variant="under15")
def test_a_missing_signing_certificate_is_explained(
    mynacard: Card, mynacard_trace: Recorder
) -> None:
    select_app(mynacard, AppName.JPKI)
    assert select_ef(mynacard, 0x0001) == 0x6A82
    assert "issued without a signing certificate (holder under 15)" in diagnosis(
        mynacard_trace, "6A82"
    )


def test_accepted_exchanges_have_no_diagnosis(mynacard: Card, mynacard_trace: Recorder) -> None:
    select_app(mynacard, AppName.JPKI)
    select_ef(mynacard, 0x0018)
    send(mynacard, "00200080")
    assert all(e.diagnosis is None for e in mynacard_trace.entries)
    assert last(mynacard_trace).decision == "accepted"  # a tries query is an answer


def test_the_card_surface_and_common_aps_are_named(
    mynacard: Card, mynacard_trace: Recorder
) -> None:
    """issue 9's applications: a refusal there names them, and the instructions they lack."""
    select_app(mynacard, AppName.SURFACE)
    assert send(mynacard, "00B0820000")[1] == 0x6982  # EF 0002 by SFI: the face needs A or B
    assert "since the SELECT of the card-surface AP at exchange 1" in diagnosis(
        mynacard_trace, "6982"
    )
    select_app(mynacard, AppName.COMMON)
    assert send(mynacard, "802A00000401020304")[1] == 0x6D00
    assert diagnosis(mynacard_trace, "6D00") == (
        "COMPUTE DIGITAL SIGNATURE exists only in the JPKI AP, the text input helper AP and the "
        "card-surface AP; the current application is the common card AP"
    )
    assert send(mynacard, "00A4040C07A0000001510000")[1] == 0x9000
    assert send(mynacard, "00B0000004")[1] == 0x6986
    assert "since the SELECT of the issuer security domain at exchange 5" in diagnosis(
        mynacard_trace, "6986"
    )
