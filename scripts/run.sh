#!/usr/bin/env bash
# The main job on a fresh machine: set up, bring up pcscd + vpcd, serve the default card (created on
# first use, its TEST PINs printed once) in `Virtual PCD 00 00`, and show real clients using it:
# OpenSC names the card and lists its certificates and PINs, pyscard reads the certificates.
# From a terminal it then keeps serving until Ctrl-C; otherwise it stops after the demonstration.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
scripts/pcsc-stack.sh start

ready="$(mktemp -u "${TMPDIR:-/tmp}/mynacard-ready.XXXXXX")"
.venv/bin/mynacard serve --ready-file "$ready" "$@" &
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

if [[ -t 0 && -t 1 ]]; then
    echo
    echo "Serving the card in 'Virtual PCD 00 00' until Ctrl-C."
    wait "$server" || true
fi
