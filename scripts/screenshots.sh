#!/usr/bin/env bash
# Redraw the learning page's screenshots shown in the README (docs/learn/*.png): the browser tests
# save them as they go through a lesson in English and Japanese and on a phone-sized screen.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MYNACARD_SCREENSHOTS="$PWD/docs/learn" .venv/bin/python -m pytest -q tests/test_learn_browser.py
ls -l docs/learn
