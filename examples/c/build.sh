#!/usr/bin/env bash
# Build examples/c/myna_client (needs a C compiler, libpcsclite-dev and libssl-dev: scripts/setup.sh
# installs them). Usage: examples/c/build.sh [OUTPUT]   (default: examples/c/myna_client)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/myna_client}"
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libpcsclite libcrypto; then
    read -r -a flags <<<"$(pkg-config --cflags --libs libpcsclite libcrypto)"
else
    flags=(-I/usr/include/PCSC -pthread -lpcsclite -lcrypto)
fi
"${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -o "$out" \
    "$here/myna_client.c" "${flags[@]}"
echo "built $out"
