#!/usr/bin/env bash
# Everything the project needs on a fresh Debian machine, idempotent: the PC/SC stack's packages,
# what venv and pyscard's build need, a virtualenv in .venv, and the project with its pcsc and test
# extras installed into it. Not root: apt-get goes through sudo (`sudo -n` without a terminal).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
scripts/pcsc-stack.sh install

# Debian splits these from python3: venv's ensurepip (python3-venv; the `venv` module itself works
# without it), Python.h (python3-dev) and a C compiler, both for pyscard's build from source.
# One interpreter start for the Python probes keeps the everything-present path fast.
needed=()
if ! probe="$("$PYTHON" -c '
import os, sysconfig
from importlib.util import find_spec
if find_spec("venv") is None or find_spec("ensurepip") is None:
    print("python3-venv")
if not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
    print("python3-dev")' 2>/dev/null)"; then
    probe=$'python3-venv\npython3-dev' # no usable "$PYTHON" at all
fi
if [[ -n $probe ]]; then
    mapfile -t needed <<<"$probe"
fi
if ! command -v cc >/dev/null 2>&1; then
    needed+=(gcc)
fi
# The card face's Japanese text is drawn with IPAGothic (card_emulator/face.py): the same font file
# on every Debian 12 machine, so the same seed gives the same card bytes.
if [[ ! -f /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ]]; then
    needed+=(fonts-ipafont-gothic)
fi
if [[ ${#needed[@]} -gt 0 ]]; then
    scripts/pcsc-stack.sh install-packages "${needed[@]}"
fi

if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
# pyscard has no Linux wheel: it compiles against libpcsclite-dev (installed above) in a few seconds.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[pcsc,test]'
echo "setup: ready (.venv/bin/mynacard)"
