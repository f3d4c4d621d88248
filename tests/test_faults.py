"""Faults around a card (card_emulator.faults, card_emulator.slot): each one, and in the trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from card_emulator import AppName, Card, PinName
from card_emulator.faults import LATENCY_PROFILES, FaultPlanError, atr_fi_di
from card_emulator.testing import (
    CardRemovedError,
    Corrupt,
    FaultPlan,
    ForceStatus,
    Latency,
    Recorder,
    RemoveCard,
    Slot,
    Tear,
    Truncate,
    query,
    select_app,
    select_ef,
    send,
    sign,
    sign_apdu,
    sw_of,
    verify,
)

JPKI = "00A4040C0AD392F000260100000001"


def exchanges(recorder: Recorder) -> list[object]:
    return [e for e in recorder.entries if e.is_exchange]


def test_remove_after_n_answers_the_nth_then_nothing_until_inserted(mynacard: Card) -> None:
    slot = Slot(mynacard, [RemoveCard(after=2)])
    recorder = Recorder().attach(slot)
    assert sw_of(slot, JPKI) == 0x9000
    assert select_ef(slot, 0x0018) == 0x9000  # the 2nd is answered
    assert not slot.present
    with pytest.raises(CardRemovedError):
        sw_of(slot, "00200080")
    slot.insert()
    assert query(slot, PinName.USER_AUTH) == 0x63C3  # a fresh session, nothing spent
    events = [e.event for e in recorder.entries if not e.is_exchange]
    assert events[:2] == ["remove", "power_off"] and "insert" in events
    removal = next(e for e in recorder.entries if e.event == "remove")
    assert removal.faults[0]["fault"] == "remove"


def test_remove_on_a_matching_command_leaves_it_unanswered_and_comes_back(
    mynacard: Card,
) -> None:
    slot = Slot(mynacard, [RemoveCard(match="VERIFY", reinsert_after=1)])
    recorder = Recorder().attach(slot)
    select_app(slot, AppName.JPKI)
    select_ef(slot, 0x0018)
    with pytest.raises(CardRemovedError):
        send(slot, "0020008004" + "30303030")
    with pytest.raises(CardRemovedError):  # the one failed attempt before it is back
        sw_of(slot, JPKI)
    assert sw_of(slot, JPKI) == 0x9000
    assert mynacard.issuer.pin_status(PinName.USER_AUTH).remaining == 3  # never reached the card
    errors = [e.error for e in recorder.entries if e.is_exchange]
    assert errors == [None, None, "removed", "removed", None]


@pytest.mark.parametrize("right", [True, False])
def test_tearing_spends_the_try_even_for_the_right_value(mynacard: Card, right: bool) -> None:
    """Anti-tearing: the decrement is durable before the comparison (architecture.md)."""
    value = (mynacard.created_pins or {})[PinName.USER_AUTH] if right else "0000"
    slot = Slot(mynacard, [Tear(pin="user_auth", reinsert_after=0)])
    recorder = Recorder().attach(slot)
    with pytest.raises(CardRemovedError, match="power was lost"):
        verify(slot, PinName.USER_AUTH, value)
    assert query(slot, PinName.USER_AUTH) == 0x63C2
    torn = next(e for e in recorder.entries if e.error == "torn")
    assert (torn.pin, torn.tries_left, torn.faults[0]["fault"]) == ("user_auth", 2, "tear")
    assert "power was lost right after the PIN counter was written" in (torn.diagnosis or "")
    assert verify(slot, PinName.USER_AUTH, (mynacard.created_pins or {})[PinName.USER_AUTH]) == (
        0x9000
    )
    assert query(slot, PinName.USER_AUTH) == 0x63C3  # one correct entry restores the count


def test_tearing_a_card_file_leaves_the_counter_spent_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "torn.card"
    card = Card.create(path, seed=7)
    right = (card.created_pins or {})[PinName.SIGNING]
    slot = Slot(card, [Tear()])
    with pytest.raises(CardRemovedError):
        verify(slot, PinName.SIGNING, right)
    slot.close()
    card.close()
    with Card.open(path) as reopened:
        assert reopened.issuer.pin_status(PinName.SIGNING).remaining == 4


def test_a_tear_waits_for_a_verify_with_data_of_its_pin(mynacard: Card) -> None:
    slot = Slot(mynacard, [Tear(pin="signing")])
    assert query(slot, PinName.SIGNING) == 0x63C5  # a query writes no counter
    assert verify(slot, PinName.USER_AUTH, "0000") == 0x63C2  # another PIN
    with pytest.raises(CardRemovedError):
        verify(slot, PinName.SIGNING, "WRONG1")


def test_force_status_answers_without_the_card(mynacard: Card) -> None:
    slot = Slot(mynacard, [ForceStatus(0x6581, match="SIGN")])
    recorder = Recorder().attach(slot)
    verify(slot, PinName.USER_AUTH, (mynacard.created_pins or {})[PinName.USER_AUTH])
    assert sign(slot, 0x0017, b"\x30" * 35) == (b"", 0x6581)
    signature, sw = send(slot, sign_apdu(b"\x30" * 35))
    assert sw == 0x9000 and len(signature) == 256  # fired once
    forced = next(e for e in recorder.entries if e.sw == "6581")
    assert forced.faults[0]["fault"] == "force_status"
    assert (forced.diagnosis or "").startswith("not the card's answer: the fault force_status")


def test_latency_waits_the_fixed_time_plus_the_profile(mynacard: Card) -> None:
    waited: list[float] = []
    slot = Slot(mynacard, [Latency(ms=5), Latency(profile="contact")], sleep=waited.append)
    recorder = Recorder().attach(slot)
    verify(slot, PinName.USER_AUTH, (mynacard.created_pins or {})[PinName.USER_AUTH])
    sign(slot, 0x0017, b"\x30" * 35)
    assert waited[0] == pytest.approx(0.005)
    # The signature: 250 ms (estimated) plus 41 + 258 bytes + 8 block bytes at 372/1, 4 MHz.
    wire = (len(sign_apdu(b"\x30" * 35)) + 258 + 8) * 11 * 372 / 4_000_000
    assert waited[-1] == pytest.approx(0.250 + wire)
    assert all(e.faults for e in exchanges(recorder))  # every delay is in the trace


def test_latency_profiles_follow_the_atr_and_cite_their_source() -> None:
    assert atr_fi_di(bytes.fromhex("3BE000FF8131FE4514")) == (372, 1)  # no TA1: the defaults
    assert atr_fi_di(bytes.fromhex("3BDA13FF8131FB468012392F31C173C601C03B")) == (372, 4)
    for profile in LATENCY_PROFILES.values():
        assert "estimated" in profile.source and "ISO/IEC" in profile.source


def test_truncate_and_corrupt_damage_only_the_answer(mynacard: Card) -> None:
    slot = Slot(mynacard, [Truncate(match="00B0", keep=3), Corrupt(match="00A4", offset=-1)])
    recorder = Recorder().attach(slot)
    assert sw_of(slot, JPKI) == 0x9001  # SW2 corrupted
    assert sw_of(slot, "00A4020C02000A") == 0x9000  # fired once
    whole = mynacard.transmit(bytes.fromhex("00B0000004"))
    assert slot.transmit(bytes.fromhex("00B0000004")) == whole[:3]
    assert slot.transmit(bytes.fromhex("00B0000004")) == whole  # fired once
    damaged = [e for e in exchanges(recorder) if e.faults]
    assert [(e.response, e.card_response) for e in damaged] == [
        ("9001", "9000"),
        (whole[:3].hex().upper(), whole.hex().upper()),
    ]


def test_a_plan_is_json_and_bad_plans_are_one_clear_error() -> None:
    plan = FaultPlan(
        (
            RemoveCard(after=3, reinsert_after=0),
            Tear(pin="signing"),
            ForceStatus(0x6F00, match="00B0", times=None, data=b"\x01"),
            Latency(ms=1.5, profile="contactless"),
            Truncate(keep=1),
            Corrupt(match="..20", offset=2, xor=0x80),
        )
    )
    assert FaultPlan.loads(plan.dumps()) == plan
    assert plan.to_json()["faults"][2] == {
        "fault": "force_status",
        "sw": "6F00",
        "match": "00B0",
        "times": None,
        "data": "01",
    }
    for bad, message in [
        ('{"faults": [{"fault": "explode"}]}', "unknown fault 'explode'"),
        ('{"faults": [{"fault": "remove"}]}', "exactly one of 'after' and 'match'"),
        ('{"faults": [{"fault": "tear", "pin": "pin1"}]}', "unknown pin 'pin1'"),
        ('{"faults": [{"fault": "latency", "profile": "warp"}]}', "unknown profile"),
        ('{"faults": [{"fault": "truncate", "match": "ZZ"}]}', "bad command pattern"),
        ('{"faults": [{"fault": "corrupt", "colour": 1}]}', "unknown field"),
        ("[1, 2]", "a 'faults' list"),
    ]:
        with pytest.raises(FaultPlanError, match=message):
            FaultPlan.loads(bad)


def test_a_slot_changes_nothing_without_faults(mynacard: Card) -> None:
    twin = Card.create(None, seed=0)
    slot = Slot(mynacard)
    for apdu in [JPKI, "00A4020C02000A", "00B0000010", "00200080", "00B0010000"]:
        assert slot.transmit(bytes.fromhex(apdu)) == twin.transmit(bytes.fromhex(apdu))
    slot.close()
