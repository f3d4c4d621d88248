"""The `mynacard_served` fixture of the test kit's pytest plugin (issue 7), through the real pcscd:
one serve process for the session, the card put back between tests through the control channel."""

from __future__ import annotations

import pytest

from card_emulator import PinName
from card_emulator.testing.served import ServedReader
from card_emulator.trace import read_trace
from tests.pcsc.conftest import REPO, connect, transmit

# The stack first (with the fixture's reader): the fixture itself never starts it.
pytestmark = [pytest.mark.pcsc, pytest.mark.usefixtures("pcsc_stack")]
pytest_plugins = ("pytester",)

SELECT_JPKI_AP = "00A4040C0AD392F000260100000001"
SELECT_USER_AUTH_PIN = "00A4020C020018"
SELECT_USER_AUTH_CERT = "00A4020C02000A"


def tries_left(reader: str) -> int:
    connection = connect(reader)
    try:
        assert transmit(connection, SELECT_JPKI_AP)[1] == 0x9000
        assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == 0x9000
        sw = transmit(connection, "00200080")[1]
    finally:
        connection.disconnect()
    assert sw & 0xFFF0 == 0x63C0
    return sw & 0x0F


def lock_user_auth(reader: ServedReader) -> None:
    wrong = f"{(int(reader.pins[PinName.USER_AUTH]) + 1) % 10_000:04d}".encode()
    connection = connect(reader)
    try:
        assert transmit(connection, SELECT_JPKI_AP)[1] == 0x9000
        assert transmit(connection, SELECT_USER_AUTH_PIN)[1] == 0x9000
        for _ in range(3):
            transmit(connection, b"\x00\x20\x00\x80\x04" + wrong)
    finally:
        connection.disconnect()


def test_a_test_may_lock_the_pin(mynacard_served: ServedReader) -> None:
    assert mynacard_served == "Virtual PCD 4 00 01"  # reader 9, as tests/pcsc/conftest.py sets
    assert tries_left(mynacard_served) == 3
    lock_user_auth(mynacard_served)
    assert tries_left(mynacard_served) == 0


def test_the_next_test_gets_the_card_fresh(mynacard_served: ServedReader) -> None:
    assert tries_left(mynacard_served) == 3  # restored from the snapshot, not a new process


@pytest.mark.mynacard(seed=77, tries={"user_auth": 1})
def test_the_marker_swaps_in_another_card(mynacard_served: ServedReader) -> None:
    assert tries_left(mynacard_served) == 1
    status = mynacard_served.control.call("status")
    assert status["pins"]["user_auth"]["remaining"] == 1
    assert mynacard_served.control.call("meta")["meta"]["seed"] == "77"


def test_faults_from_the_test_and_its_trace(mynacard_served: ServedReader) -> None:
    mynacard_served.control.call(
        "fault", fault={"fault": "force_status", "sw": "6A82", "match": "00A4040C"}
    )
    connection = connect(mynacard_served)
    try:
        assert transmit(connection, SELECT_JPKI_AP)[1] == 0x6A82
        assert transmit(connection, SELECT_JPKI_AP)[1] == 0x9000
    finally:
        connection.disconnect()
    entries = [e for e in read_trace(mynacard_served.trace_path).entries if e.event == "exchange"]
    assert [e.sw for e in entries] == ["6A82", "9000"]


def test_faults_do_not_outlive_their_test(mynacard_served: ServedReader) -> None:
    assert mynacard_served.control.call("status")["faults"] is None
    assert tries_left(mynacard_served) == 3


def test_without_the_stack_it_skips_and_in_ci_it_fails(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plugin comes from the installed entry point; name it when this run loaded it otherwise.
    plugin = (
        []
        if request.config.pluginmanager.has_plugin("mynacard")
        else ["-p", "card_emulator.testing.plugin"]
    )
    pytester.makepyfile(
        """
        def test_needs_a_served_card(mynacard_served):
            raise AssertionError("never reached")
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # this checkout's package, whatever is installed
    monkeypatch.setenv("MYNACARD_SERVED_READER", "15")  # nothing listens on 35978
    monkeypatch.delenv("MYNACARD_PCSC_REQUIRED", raising=False)
    skipped = pytester.runpytest_subprocess(*plugin, "-rs")
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(
        ["*mynacard_served: PC/SC stack not available: nothing listens on 127.0.0.1:35978*"]
    )
    monkeypatch.setenv("MYNACARD_PCSC_REQUIRED", "1")
    failed = pytester.runpytest_subprocess(*plugin)
    failed.assert_outcomes(errors=1)
    failed.stdout.fnmatch_lines(["*the PC/SC stack is required here*"])


def test_a_failing_test_reports_the_served_cards_last_exchanges(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the in-process fixtures do (issue 7): the report shows the last exchanges, PIN data
    # redacted, with the card's reason; the served card's come from its trace file.
    plugin = (
        []
        if request.config.pluginmanager.has_plugin("mynacard")
        else ["-p", "card_emulator.testing.plugin"]
    )
    pytester.makepyfile(
        f"""
        from smartcard.System import readers

        def test_refused(mynacard_served):
            reader = next(r for r in readers() if str(r) == mynacard_served)
            connection = reader.createConnection()
            connection.connect()
            for apdu in ("{SELECT_JPKI_AP}", "{SELECT_USER_AUTH_PIN}", "002000800430303030"):
                connection.transmit(list(bytes.fromhex(apdu)))
            connection.disconnect()
            assert False, "the client's bug"

        def test_same_card_again(mynacard_served):
            pass
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("MYNACARD_SERVED_READER", "8")  # the session's own server is on reader 9
    result = pytester.runpytest_subprocess(*plugin)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*mynacard: served card Virtual PCD 4 00 00*",
            "last 3 of 3 exchanges (PIN data redacted)",
            "#3 *0020008004<4 bytes redacted>*-> 63C2*wrong value*",
            "whole trace: *test_refused.trace.jsonl",
        ]
    )


def test_each_xdist_worker_serves_its_card_in_a_reader_of_its_own(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Worker gwN serves in reader K+N: on one reader the second worker's serve was refused
    # (exit 3) and its served tests skipped.
    plugin = (
        []
        if request.config.pluginmanager.has_plugin("mynacard")
        else ["-p", "card_emulator.testing.plugin"]
    )
    pytester.makepyfile(
        """
        import os
        from smartcard.System import readers

        def test_served(mynacard_served):
            reader = next(r for r in readers() if str(r) == mynacard_served)
            connection = reader.createConnection()
            connection.connect()
            data, sw1, sw2 = connection.transmit(list(bytes.fromhex("00A4040C0AD392F000260100000001")))
            connection.disconnect()
            assert (sw1, sw2) == (0x90, 0x00)
            print("WORKER", os.environ["PYTEST_XDIST_WORKER"], "READER", mynacard_served)
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("MYNACARD_SERVED_READER", "6")  # gw0: reader 6, gw1: reader 7
    result = pytester.runpytest_subprocess(
        *plugin, "-p", "xdist", "-n", "2", "--dist", "each", "-rA"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(
        ["WORKER gw0 READER Virtual PCD 3 00 00", "WORKER gw1 READER Virtual PCD 3 00 01"]
    )
