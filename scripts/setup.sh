#!/usr/bin/env bash
# Everything the project needs on a fresh Debian machine, idempotent: the PC/SC stack's packages,
# a virtualenv in .venv, and the project with its pcsc and test extras installed into it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/pcsc-stack.sh install
PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
# pyscard has no Linux wheel: it compiles against libpcsclite-dev (installed above) in a few seconds.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[pcsc,test]'
echo "setup: ready (.venv/bin/mynacard)"
