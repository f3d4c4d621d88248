"""Where the emulator keeps its files. Nothing is created on import: callers make directories."""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR_NAME = "mynumber-card-emulator"
DEFAULT_CARD_NAME = "default.card"


def data_dir() -> Path:
    """``$XDG_DATA_HOME/mynumber-card-emulator``; ``~/.local/share`` when unset (XDG Base Dir)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / APP_DIR_NAME


def default_card_path() -> Path:
    """The card file ``mynacard`` uses when no path is given. Its directory may not exist yet."""
    return data_dir() / DEFAULT_CARD_NAME
