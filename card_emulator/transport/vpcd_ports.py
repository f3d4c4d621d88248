"""Where vpcd's readers listen: constants only, cheap to import (``mynacard serve``'s option
defaults are read on every ``mynacard`` start-up); ``transport.vpcd`` re-exports them (pcsc-vpcd.md
§1, scripts/pcsc-stack.sh)."""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"  # vpcd listens on every interface; the card connects to loopback (§1)
DEFAULT_PORT = 35963  # reader `Virtual PCD 00 00`; reader n listens on DEFAULT_PORT + n
MAX_READERS = 16  # pcsc-lite's PCSCLITE_MAX_READERS_CONTEXTS (pcsc-stack.sh --readers)
