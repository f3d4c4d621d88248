#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, the PC/SC stack, lint, types, every test.
# Tests marked `pcsc` drive the card through the real pcscd + vpcd; in CI (CI=true) they fail,
# never skip, when the stack is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
scripts/pcsc-stack.sh start --readers 10 # tests/pcsc: eight cards at once, and the fixture's
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy --strict"
.venv/bin/mypy
echo "== API reference (pdoc: build/api/index.html)"
.venv/bin/python scripts/api_docs.py
echo "== pytest"
HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}" .venv/bin/python -m pytest "$@"
