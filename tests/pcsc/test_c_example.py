"""The C client of examples/c through pcscd: certificate, lock, reset by `mynacard pin reset` on the
served card file, signature checked with OpenSSL (issue 8, "Beyond Python"). Built here from source
with the system's compiler, libpcsclite and libcrypto, as a team outside Python would build it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from card_emulator import Card, PinName
from tests.pcsc.conftest import READER_0, REPO, ServerFactory

pytestmark = pytest.mark.pcsc


def test_the_c_client_locks_has_it_reset_and_signs(serve: ServerFactory, tmp_path: Path) -> None:
    binary = tmp_path / "myna_client"
    built = subprocess.run(
        ["bash", str(REPO / "examples" / "c" / "build.sh"), str(binary)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr  # CI installs the build needs (scripts/setup.sh)
    path = tmp_path / "c.card"
    with Card.create(path, seed=21) as card:
        assert card.created_pins is not None
        right = card.created_pins[PinName.USER_AUTH]
    server = serve(str(path), "--reader", "0")
    server.start()
    mynacard = Path(sys.executable).with_name("mynacard")
    done = subprocess.run(
        [str(binary), READER_0, str(path), str(mynacard)],
        capture_output=True,
        text=True,
        env={**os.environ, "MYNA_USER_AUTH_PIN": right, "MYNA_NEW_PIN": "5678"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "VERIFY (locked: even a right value)          6984" in lines
    assert "empty VERIFY after the reset: 3 tries        63C3" in lines
    assert "signature: 256 bytes, verified with the certificate's public key" in lines
    assert lines[-1] == "ok"
    shown = "\n".join(line for line in lines if not line.startswith("certificate:"))  # hex CN
    assert right not in shown and "5678" not in shown  # no PIN printed
    assert server.stop() == 0
    with Card.open(path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 3
