"""A usage mistake under ``mynacard ctl CARD ...`` names the command as typed, one line.

click's ``command_path`` shows a group's argument as its metavar (``mynacard ctl {CARD} fault``),
which is not a command a user can run; the one-line answer (DEVELOPERS.md: a CLI mistake is one line
and a non-zero exit) names the card the user typed instead.
"""

from __future__ import annotations

import pytest

import card_emulator.cli


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        card_emulator.cli.main(list(args))
    code = done.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("ctl", "me.card", "fault"),
            "mynacard ctl me.card fault: Missing argument 'kind'. (see 'mynacard ctl me.card fault -h')\n",
        ),
        (
            ("ctl", "me.card", "faults"),
            "mynacard ctl me.card faults: Missing argument 'plan'. "
            "(see 'mynacard ctl me.card faults -h')\n",
        ),
        (
            ("pin", "status", "--bogus"),
            "mynacard pin status: No such option: --bogus (see 'mynacard pin status -h')\n",
        ),
    ],
)
def test_usage_line_names_the_command_as_typed(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], line: str
) -> None:
    code, err = _run(capsys, *args)
    assert code == 2
    assert err == line
