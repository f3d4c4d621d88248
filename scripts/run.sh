#!/usr/bin/env bash
# The main job on a fresh machine: set up, bring up pcscd + vpcd, serve the default card (created on
# first use, its TEST PINs printed once) in `Virtual PCD 00 00`, and show real clients using it:
# OpenSC names the card and lists its certificates and PINs, pyscard reads the certificates.
# From a terminal it then keeps serving until Ctrl-C; otherwise it stops after the demonstration.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
scripts/pcsc-stack.sh start

# The default card, created on first use; its initial TEST PINs are shown once (the card keeps only
# hashes). The user-authentication PIN also stays in this process's environment to show a login and
# a signature through OpenSC below.
card="$(.venv/bin/python -c 'from card_emulator.paths import default_card_path as p; print(p())')"
if [[ $# -gt 0 ]]; then
    echo "usage: scripts/run.sh   (no arguments: it serves the default card in Virtual PCD 00 00)" >&2
    exit 2
fi
if [[ ! -e $card ]]; then
    mkdir -p "$(dirname "$card")"
    created="$(.venv/bin/mynacard init "$card" --json)"
    printf '%s\n' "$created"
    user_auth_pin="$(printf '%s' "$created" | .venv/bin/python -c 'import json, sys
print(json.load(sys.stdin)["pins"]["user_auth"])')"
fi

ready="$(mktemp -u "${TMPDIR:-/tmp}/mynacard-ready.XXXXXX")"
.venv/bin/mynacard serve --ready-file "$ready" &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 150); do
    [[ -s $ready ]] && break
    kill -0 "$server" 2>/dev/null || { echo "run: mynacard serve stopped" >&2; exit 1; }
    sleep 0.1
done
[[ -s $ready ]] || { echo "run: the card did not appear in the reader within 15 s" >&2; exit 1; }

echo
echo "== opensc-tool --reader 'Virtual PCD 00 00' -n   (OpenSC picks its jpki driver by itself)"
opensc-tool --reader "Virtual PCD 00 00" -n
echo
echo "== pkcs15-tool --list-certificates --list-pins"
pkcs15-tool --reader "Virtual PCD 00 00" --list-certificates --list-pins
echo
echo "== examples/read_certificates.py   (pyscard through pcscd)"
.venv/bin/python examples/read_certificates.py
echo
if [[ -n ${user_auth_pin:-} ]]; then
    echo "== examples/sign_with_opensc_pkcs11.py --key auth   (PKCS#11 login, sign, verify)"
    # The PIN goes to this one command's environment only (not the server's, not argv).
    MYNA_PIN="$user_auth_pin" .venv/bin/python examples/sign_with_opensc_pkcs11.py --key auth \
        --pin-env MYNA_PIN
else
    echo "(The card existed already, so its PINs are unknown here: sign with"
    echo " MYNA_PIN=<user-auth PIN> .venv/bin/python examples/sign_with_opensc_pkcs11.py --key auth --pin-env MYNA_PIN)"
fi

if [[ -t 0 && -t 1 ]]; then
    echo
    echo "Serving the card in 'Virtual PCD 00 00' until Ctrl-C."
    wait "$server" || true
fi
