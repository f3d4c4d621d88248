"""The applications of the card, by AID."""

from __future__ import annotations

from card_emulator.apps.base import Application, Context, Note, Session
from card_emulator.apps.jpki import JpkiApplication
from card_emulator.apps.juki import JukiApplication
from card_emulator.apps.text import TextApplication
from card_emulator.rules import APP_AIDS, AppName

APPLICATIONS: dict[AppName, Application] = {
    app.name: app for app in (JpkiApplication(), TextApplication(), JukiApplication())
}
APP_BY_AID: dict[bytes, AppName] = {aid: name for name, aid in APP_AIDS.items()}

__all__ = ["APPLICATIONS", "APP_BY_AID", "Application", "Context", "Note", "Session"]
