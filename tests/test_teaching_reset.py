"""The reset procedures (pin-rules.md §3–§5) as a model: channels, dates, applicants, refusals.

The kiosk path checks the other JPKI PIN on the real card, so a wrong entry there counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apdu import retries_left
from card_emulator import Card
from card_emulator.rules import PIN_SPECS, PinName
from card_emulator.teaching.reset import (
    KIOSK_PINS,
    RULE_2025_FROM,
    Applicant,
    Channel,
    KioskRule,
    PinAnswer,
    RefusalCode,
    ResetRequest,
    check_request,
    kiosk_rule_on,
    parse_pin,
    plan_for,
    reserve_kiosk,
    reset_pin,
)
from card_emulator.trace import Exchange
from tests.helpers import verify

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
IN_2024 = datetime(2024, 8, 1, 12, 0)  # seed 002 (2024-07-27) states the 2024 rule
IN_2025 = datetime(2025, 6, 1, 12, 0)  # seed 004 (2025) states the 2025 rule


def codes(refusals: tuple[object, ...]) -> set[RefusalCode]:
    return {r.code for r in refusals}  # type: ignore[attr-defined]


def kiosk(pin: PinName, at: datetime, **kw: object) -> ResetRequest:
    reserved = kw.pop("reserved_at", at - timedelta(hours=1))
    return ResetRequest(pin, Channel.KIOSK, at, reserved_at=reserved, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Rules by date
# ---------------------------------------------------------------------------------------------


def test_the_rule_follows_the_date() -> None:
    assert kiosk_rule_on(date(2024, 7, 27)) == KioskRule.RULE_2024
    assert kiosk_rule_on(RULE_2025_FROM - timedelta(days=1)) == KioskRule.RULE_2024
    assert kiosk_rule_on(RULE_2025_FROM) == KioskRule.RULE_2025
    assert kiosk_rule_on(date(2025, 6, 1)) == KioskRule.RULE_2025


def test_2024_kiosk_resets_only_the_signing_password_with_the_user_auth_pin() -> None:
    assert KIOSK_PINS[KioskRule.RULE_2024] == {PinName.SIGNING: PinName.USER_AUTH}
    assert check_request(kiosk(PinName.SIGNING, IN_2024)) == ()
    refused = check_request(kiosk(PinName.USER_AUTH, IN_2024))
    assert codes(refused) == {RefusalCode.KIOSK_2024_SIGNING_ONLY}


def test_2025_kiosk_resets_either_jpki_pin_each_with_the_other() -> None:
    assert KIOSK_PINS[KioskRule.RULE_2025] == {
        PinName.SIGNING: PinName.USER_AUTH,
        PinName.USER_AUTH: PinName.SIGNING,
    }
    assert check_request(kiosk(PinName.USER_AUTH, IN_2025)) == ()


@pytest.mark.parametrize("at", [IN_2024, IN_2025])
@pytest.mark.parametrize("pin", [PinName.RESIDENT_REGISTRY, PinName.TEXT_INPUT_HELPER])
def test_four_digit_pins_are_never_reset_at_a_kiosk(pin: PinName, at: datetime) -> None:
    refused = check_request(kiosk(pin, at))
    assert codes(refused) == {RefusalCode.KIOSK_FOUR_DIGIT}
    assert "window" in refused[0].text.en and "窓口" in refused[0].text.ja


def test_both_jpki_pins_unknown_means_the_window() -> None:
    refused = check_request(kiosk(PinName.SIGNING, IN_2025), other_known=False)
    assert codes(refused) == {RefusalCode.BOTH_JPKI_UNKNOWN}
    assert "only the municipal window" in refused[0].text.en
    assert refused[0].source.seeds == ("004",)


@given(st.times())
def test_kiosk_hours_are_6_30_to_23_00(when: time) -> None:
    at = datetime.combine(date(2025, 6, 1), when)
    refused = codes(check_request(kiosk(PinName.SIGNING, at, reserved_at=at)))
    assert (RefusalCode.KIOSK_CLOSED in refused) == (not time(6, 30) <= when < time(23, 0))


@pytest.mark.parametrize(
    ("hours", "expired"), [(0, False), (23.99, False), (24, False), (24.02, True), (72, True)]
)
def test_the_reservation_is_valid_for_24_hours(hours: float, expired: bool) -> None:
    at = datetime(2024, 9, 2, 12, 0)
    request = kiosk(PinName.SIGNING, at, reserved_at=at - timedelta(hours=hours))
    assert (RefusalCode.RESERVATION_EXPIRED in codes(check_request(request))) == expired


def test_no_reservation_and_not_the_holder_are_refused_at_a_kiosk() -> None:
    assert RefusalCode.NO_RESERVATION in codes(
        check_request(kiosk(PinName.SIGNING, IN_2024, reserved_at=None))
    )
    proxy = kiosk(PinName.SIGNING, IN_2024, applicant=Applicant.VOLUNTARY_PROXY)
    assert RefusalCode.KIOSK_HOLDER_ONLY in codes(check_request(proxy))


def test_the_voluntary_proxys_inquiry_is_not_forwarded_and_the_reply_must_hide_the_pin() -> None:
    base = ResetRequest(PinName.RESIDENT_REGISTRY, Channel.WINDOW, IN_2025,
                        applicant=Applicant.VOLUNTARY_PROXY)  # fmt: skip
    assert check_request(base) == ()
    forwarded = ResetRequest(PinName.RESIDENT_REGISTRY, Channel.WINDOW, IN_2025,
                             applicant=Applicant.VOLUNTARY_PROXY, mail_forwarded=True)  # fmt: skip
    assert codes(check_request(forwarded)) == {RefusalCode.INQUIRY_NOT_FORWARDED}
    unhidden = ResetRequest(PinName.RESIDENT_REGISTRY, Channel.WINDOW, IN_2025,
                            applicant=Applicant.VOLUNTARY_PROXY, reply_pin_hidden=False)  # fmt: skip
    assert codes(check_request(unhidden)) == {RefusalCode.REPLY_REJECTED}


def test_every_refusal_reads_in_both_languages() -> None:
    requests = [
        kiosk(PinName.RESIDENT_REGISTRY, IN_2024),
        kiosk(PinName.USER_AUTH, IN_2024),
        kiosk(PinName.SIGNING, datetime(2025, 6, 1, 3, 0), reserved_at=None,
              applicant=Applicant.VOLUNTARY_PROXY),
        kiosk(PinName.SIGNING, IN_2025, reserved_at=IN_2025 - timedelta(days=2),
              certificate_expired=True),
        ResetRequest(PinName.TEXT_INPUT_HELPER, Channel.WINDOW, IN_2025,
                     applicant=Applicant.VOLUNTARY_PROXY, mail_forwarded=True,
                     reply_complete=False),
    ]  # fmt: skip
    seen: set[RefusalCode] = set()
    for request in requests:
        for refusal in check_request(request, other_known=False):
            seen.add(refusal.code)
            assert refusal.text.en and JAPANESE.search(refusal.text.ja)
            assert refusal.source.label("en") and refusal.source.label("ja")
    assert len(seen) >= 8


# ---------------------------------------------------------------------------------------------
# Plans: applicants, documents, visits
# ---------------------------------------------------------------------------------------------


def test_window_visits_by_applicant() -> None:
    holder = plan_for(PinName.SIGNING, Channel.WINDOW, Applicant.HOLDER, IN_2025.date())
    legal = plan_for(PinName.SIGNING, Channel.WINDOW, Applicant.LEGAL_REPRESENTATIVE,
                     IN_2025.date())  # fmt: skip
    proxy = plan_for(PinName.SIGNING, Channel.WINDOW, Applicant.VOLUNTARY_PROXY, IN_2025.date())
    assert (holder.visits, legal.visits, proxy.visits) == (1, 1, 2)
    assert [s.visit for s in proxy.steps] == [1, None, 2]
    mail = proxy.steps[1]
    assert "転送不要" in mail.what.ja and "not forwarded" in mail.what.en
    brought_last = " ".join(b.en for b in proxy.steps[2].brings)
    assert "inquiry reply" in brought_last and "A+B or A+A" in brought_last
    assert any("戸籍謄本" in b.ja for b in legal.steps[0].brings)
    assert any("the original" in b.en for b in holder.steps[0].brings)
    assert any("three visits" in n.text.en for n in proxy.notes)  # Kanazawa, seed 004


def test_kiosk_plan_has_the_app_step_and_the_kiosk_step() -> None:
    plan = plan_for(PinName.SIGNING, Channel.KIOSK, Applicant.HOLDER, IN_2024.date())
    assert [s.visit for s in plan.steps] == [None, 1]
    assert "user-authentication PIN" in plan.steps[0].what.en
    assert "24 hours" in plan.steps[1].what.en and "6:30–23:00" in plan.steps[1].what.en


def test_pin_names_of_the_cli() -> None:
    assert parse_pin("user-auth") == PinName.USER_AUTH
    assert parse_pin("resident") == PinName.RESIDENT_REGISTRY
    assert parse_pin("text") == PinName.TEXT_INPUT_HELPER
    with pytest.raises(ValueError, match="choose signing, user_auth, resident_registry"):
        parse_pin("bank")


# ---------------------------------------------------------------------------------------------
# On the real card
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def card() -> Iterator[Card]:
    with Card.create(None, seed=41, issued=date(2024, 4, 1)) as fresh:
        yield fresh


def lock(card: Card, pin: PinName) -> None:
    wrong = "WRONG123" if pin == PinName.SIGNING else "0000"
    if card.created_pins and card.created_pins[pin] == wrong:
        wrong = "WRONG124" if pin == PinName.SIGNING else "9999"
    for _ in range(PIN_SPECS[pin].max_tries):
        verify(card, pin, wrong)
    assert card.issuer.pin_status(pin).locked


def test_kiosk_2024_resets_a_locked_signing_password_after_checking_the_user_auth_pin(
    card: Card,
) -> None:
    assert card.created_pins is not None
    lock(card, PinName.SIGNING)
    exchanges: list[Exchange] = []
    card.add_observer(exchanges.append)
    outcome = reset_pin(card, kiosk(PinName.SIGNING, IN_2024), "NEWPASS1",
                        other_value=card.created_pins[PinName.USER_AUTH])  # fmt: skip
    assert outcome.done and outcome.verify_sw == 0x9000
    assert outcome.checked_pin == PinName.USER_AUTH
    verifies = [e for e in exchanges if e.action == "verify"]
    assert [e.pin for e in verifies] == [PinName.USER_AUTH]  # through a real APDU
    assert card.issuer.pin_status(PinName.SIGNING).remaining == 5
    assert verify(card, PinName.SIGNING, "NEWPASS1") == 0x9000


def test_a_wrong_other_pin_at_the_kiosk_counts_on_the_card(card: Card) -> None:
    lock(card, PinName.SIGNING)
    wrong = "0000" if card.created_pins and card.created_pins[PinName.USER_AUTH] != "0000" else "9"
    outcome = reset_pin(card, kiosk(PinName.SIGNING, IN_2024), "NEWPASS1", other_value=wrong)
    assert not outcome.done
    assert codes(outcome.refusals) == {RefusalCode.OTHER_PIN_WRONG}
    assert outcome.verify_sw == 0x63C2
    assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 2
    assert card.issuer.pin_status(PinName.SIGNING).locked  # nothing was reset


def test_a_locked_other_pin_sends_the_holder_to_the_window(card: Card) -> None:
    assert card.created_pins is not None
    lock(card, PinName.USER_AUTH)
    outcome = reserve_kiosk(card, PinName.SIGNING, card.created_pins[PinName.USER_AUTH], IN_2024)
    assert not outcome.done and outcome.verify_sw == 0x6984
    assert codes(outcome.refusals) == {RefusalCode.OTHER_PIN_LOCKED}


def test_the_window_resets_any_pin_and_a_bad_new_value_changes_nothing(card: Card) -> None:
    lock(card, PinName.RESIDENT_REGISTRY)
    bad = reset_pin(card, ResetRequest(PinName.RESIDENT_REGISTRY, Channel.WINDOW, IN_2025), "12a")
    assert codes(bad.refusals) == {RefusalCode.BAD_NEW_VALUE}
    assert card.issuer.pin_status(PinName.RESIDENT_REGISTRY).locked
    good = reset_pin(card, ResetRequest(PinName.RESIDENT_REGISTRY, Channel.WINDOW, IN_2025), "4826")
    assert good.done and good.plan is not None and good.plan.visits == 1
    assert verify(card, PinName.RESIDENT_REGISTRY, "4826") == 0x9000


def test_an_expired_certificate_is_not_a_pin_reset() -> None:
    with Card.create(None, seed=42, issued=date(2025, 5, 1), variant="expired") as card:
        assert card.created_pins is not None
        at = datetime(2025, 6, 1, 12, 0)
        for channel in Channel:
            request = ResetRequest(PinName.SIGNING, channel, at, reserved_at=at)
            outcome = reset_pin(card, request, "NEWPASS1",
                                other_value=card.created_pins[PinName.USER_AUTH])  # fmt: skip
            assert RefusalCode.CERTIFICATE_EXPIRED in codes(outcome.refusals)
            assert "re-issued at the municipal window" in outcome.refusals[0].text.en
        resident = reset_pin(card, ResetRequest(PinName.RESIDENT_REGISTRY, Channel.WINDOW, at),
                             "4826")  # fmt: skip
        assert resident.done


def test_a_card_without_a_signing_certificate_has_no_signing_password_to_reset() -> None:
    with Card.create(None, seed=43, variant="under15") as card:
        outcome = reset_pin(card, ResetRequest(PinName.SIGNING, Channel.WINDOW, IN_2025),
                            "NEWPASS1")  # fmt: skip
        assert codes(outcome.refusals) == {RefusalCode.NO_SIGNING_CERTIFICATE}


@given(sw=st.integers(min_value=0, max_value=0xFFFF))
def test_tries_left_is_read_from_63cx_only(sw: int) -> None:
    answer = PinAnswer(PinName.USER_AUTH, sw, "verify")
    assert answer.tries_left == retries_left(sw)
    assert answer.tries_left == (sw & 0x0F if 0x63C0 <= sw <= 0x63CF else None)
    assert answer.locked == (sw in (0x6984, 0x63C0))
