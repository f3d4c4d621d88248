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
# The C example client (examples/c, run by the tests) links libpcsclite and OpenSSL's libcrypto.
if [[ ! -e /usr/include/openssl/evp.h ]]; then
    needed+=(libssl-dev)
fi
# vicc's ISO 7816 OS as Debian ships it, the anchor of benchmarks/bench_inprocess.py (which also needs
# Debian's pycryptodome: vicc imports `Crypto`, Debian names it `Cryptodome`; the benchmark aliases it).
needed+=(vsmartcard-vpicc python3-pycryptodome)
# The learning page's browser tests drive Debian's Chromium through its chromedriver (selenium; no
# browser or driver is downloaded); Japanese text needs a CJK font, in the page and in Graphviz's
# diagrams (`mynacard diagram`). The card face's Japanese text is drawn with the same IPAGothic
# (card_emulator/face.py): the same font file on every Debian 12 machine, so the same seed gives
# the same card bytes.
needed+=(chromium chromium-driver fonts-ipafont-gothic graphviz)
# apt-get one at a time on a shared machine: the same lock file as every helper script here.
if command -v flock >/dev/null 2>&1; then
    flock -o /tmp/mynacard-apt.lock scripts/pcsc-stack.sh install-packages "${needed[@]}"
else
    scripts/pcsc-stack.sh install-packages "${needed[@]}"
fi

if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
# pyscard has no Linux wheel: it compiles against libpcsclite-dev (installed above) in a few seconds.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[pcsc,test]'
echo "setup: ready (.venv/bin/mynacard)"
