"""The mynacard pytest plugin as a user's test suite sees it (run by pytester in a fresh folder,
with no conftest of this repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

USER_TESTS = """
import pytest
from smartcard.System import readers
from card_emulator import AppName, PinName
from card_emulator.testing import personas, query, read_ef, select_app, sign, verify, RemoveCard
from card_emulator.testing.client import select_app_apdu


def test_fixture_is_a_fresh_powered_card(mynacard):
    assert query(mynacard, PinName.USER_AUTH) == 0x63C3
    assert mynacard.issuer.meta()["seed"] == "0"


@pytest.mark.mynacard(seed=5, variant="under15", tries={"user_auth": 1}, locked=["text_input_helper"])
def test_marker_configures_it(mynacard):
    assert mynacard.issuer.meta()["seed"] == "5"
    assert not mynacard.issuer.has_signing_certificate
    assert query(mynacard, PinName.USER_AUTH) == 0x63C1
    assert verify(mynacard, PinName.TEXT_INPUT_HELPER, "0000") == 0x6984


def test_factory_keywords(mynacard_factory):
    card = mynacard_factory(
        seed=2,
        holder={"name": "試験\\u3000花子", "sex": "9"},
        pins={"user_auth": "4321"},
        issued=__import__("datetime").date(2027, 1, 5),
    )
    assert verify(card, PinName.USER_AUTH, "4321") == 0x9000
    assert card.issuer.holder().name == "試験\\u3000花子"
    assert card.issuer.meta()["issued"] == "2027-01-05"
    other = mynacard_factory(persona=personas.LEAP_DAY)
    assert other.issuer.holder().birth_date.isoformat() == "1988-02-29"


def test_reader_fixture_is_a_pyscard_reader(mynacard_reader, mynacard_factory):
    second = mynacard_factory.reader(mynacard_factory(seed=1))
    names = [str(r) for r in readers()]
    assert mynacard_reader in names and second in names and mynacard_reader != second
    for name in (mynacard_reader, second):
        reader = next(r for r in readers() if str(r) == name)
        connection = reader.createConnection()
        connection.connect()
        data, sw1, sw2 = connection.transmit(list(select_app_apdu(AppName.JPKI)))
        assert (sw1, sw2) == (0x90, 0x00)
        connection.disconnect()


def test_slot_fixture_pulls_the_card(mynacard_slot):
    mynacard_slot.set_faults([RemoveCard(after=1)])
    assert select_app(mynacard_slot, AppName.JPKI) == 0x9000
    assert not mynacard_slot.present


def test_a_client_that_reselects_fails_with_the_reason(mynacard):
    verify(mynacard, PinName.USER_AUTH, mynacard.created_pins[PinName.USER_AUTH])
    select_app(mynacard, AppName.JPKI)
    assert sign(mynacard, 0x0017, b"\\x30" * 35)[1] == 0x9000


@pytest.mark.mynacard(max_tries={"surface-code-b": 5}, tries={"surface_code_b": 4})
def test_marker_takes_card_create_keywords(mynacard, mynacard_factory):
    assert query(mynacard, PinName.SURFACE_CODE_B) == 0x63C4
    assert mynacard.issuer.pin_status(PinName.SURFACE_CODE_B).max_tries == 5
    other = mynacard_factory(max_tries={"text_code_a": 2}, locked=["text_code_a"])
    assert query(other, PinName.TEXT_CODE_A) == 0x63C0
    assert other.issuer.pin_status(PinName.TEXT_CODE_A).max_tries == 2


@pytest.mark.mynacard(1)
def test_positional_marker(mynacard):
    pass
"""


def test_the_plugin_works_without_any_conftest(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    traces = tmp_path / "traces"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mynacard-traces={traces}")
    result.assert_outcomes(passed=6, failed=1, errors=1)
    out = result.stdout.str()
    # The failure report: the card's last exchanges, PIN data redacted, reason and diagnosis.
    assert "mynacard: card 1 (seed 0, standard)" in out
    assert "#3   0020008004<4 bytes redacted>             -> 9000   verify user_auth" in out
    assert "refused: the key needs a VERIFY of user_auth" in out
    assert (
        "why: COMPUTE DIGITAL SIGNATURE of EF 0017 needs a VERIFY of the user-authentication "
        "PIN; the user-authentication PIN was verified at exchange 3 and cleared by the SELECT "
        "of the JPKI AP at exchange 4"
    ) in out
    assert "@pytest.mark.mynacard takes keywords only" in out
    written = sorted(p.name for p in traces.iterdir())
    assert written == [
        "test_user.py_test_a_client_that_reselects_fails_with_the_reason.card1.jsonl"
    ]


def test_the_report_size_and_the_default_seed_are_options(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmynacard_seed = 4\n")
    pytester.makepyfile(
        test_user="""
from card_emulator.testing import send
def test_fails(mynacard):
    assert mynacard.issuer.meta()["seed"] == "4"
    for _ in range(5):
        send(mynacard, "00A4040C0AD392F000260100000001")
    assert False
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--mynacard-report=2")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "last 2 of 5 exchanges" in out and "#4 " in out and "#3 " not in out


def test_xdist_runs_the_fixtures_in_workers(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(
        test_user="""
import pytest
from card_emulator import PinName
from card_emulator.testing import query

@pytest.mark.parametrize("n", range(4))
def test_card(mynacard, n):
    assert query(mynacard, PinName.SIGNING) == 0x63C5
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)


def test_the_readme_pytest_example_passes(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    chapter = readme.split("## Testing your software against the card", 1)[1]
    example = chapter.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in example.splitlines() if line.strip()]) == 5
    pytester.makepyfile(test_readme=example)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
