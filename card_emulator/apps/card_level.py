"""The instructions the card answers itself, whatever application is selected (or none).

SELECT (ISO 7816-4 §7.1.1; card-interface.md §1.4, §2.1), GET RESPONSE (§7.6.1), GET CHALLENGE
(§7.5.3), GET DATA (§7.4.2; the MF-level objects of card-interface.md §8) and the routing of secure
messaging (CLA 08/0C, only the text AP has it: §1.3, §5.7). ``card_emulator.card.Card._dispatch``
calls these; an application's own instructions go to ``Application.handle``. Each takes the parsed
command and the exchange's ``Context`` and returns the response data, or raises ``CardError`` with
the card's status word.
"""

from __future__ import annotations

import os

from apdu import CommandApdu, StatusWord
from card_emulator import mf, sm
from card_emulator.apps import APP_BY_AID, APPLICATIONS, ISSUER_SECURITY_DOMAIN, Context, find_df
from card_emulator.errors import CardError
from card_emulator.rules import APP_AIDS, AppName

__all__ = ["get_challenge", "get_data", "get_response", "secure_messaging", "select"]

SW = StatusWord


def select(command: CommandApdu, ctx: Context) -> bytes:
    """SELECT: an application by DF name or a prefix of one (P1 04; the session restarts: nothing
    verified, §2.1), an EF of the current application (P1 02, P2 0C or 00; the security status
    stays), or the MF (P1 00: 6A86 after reset, a no-op in an application, §1.4)."""
    if command.p1 == 0x04:  # by DF name or a prefix of one; clears the security status (§2.1)
        ctx.note.action = "select_app"
        if command.p2 & 0xF0:  # b4-b3: what to answer (none here), b2-b1: which occurrence
            raise CardError(SW.INCORRECT_P1P2, "P2 must be 0X (ISO 7816-4 §7.1.1)")
        if not command.data:
            raise CardError(SW.WRONG_LENGTH, "no AID")
        current = APP_AIDS[ctx.session.app] if ctx.session.app else ISSUER_SECURITY_DOMAIN
        aid = find_df(command.data, command.p2 & 0x03, current)
        ctx.session.restart(APP_BY_AID.get(aid))
        return b""
    if command.p2 not in (0x00, 0x0C):  # 0C: no FCI, what every client sends; 00 answers none
        raise CardError(SW.INCORRECT_P1P2, "P2 must be 0C or 00")
    if command.p1 == 0x02:  # an EF under the current DF
        ctx.note.action = "select_ef"
        if ctx.session.app is None:
            raise CardError(SW.FILE_NOT_FOUND, "no EF is selectable before an application")
        return APPLICATIONS[ctx.session.app].select_ef(command, ctx)
    if command.p1 == 0x00:  # the MF: 6A86 after reset, a no-op in an AP; 3F00 unknown (§1.4)
        ctx.note.action = "select_mf"
        if command.data:
            raise CardError(SW.FILE_NOT_FOUND, "no such file at this level")
        if ctx.session.app is None:
            raise CardError(SW.INCORRECT_P1P2, "no MF to select")
        return b""
    raise CardError(SW.INCORRECT_P1P2, "SELECT takes P1 = 00, 02 or 04")


def get_response(command: CommandApdu, ctx: Context, pending: bytes) -> bytes:
    """GET RESPONSE: ``pending``, the rest a ``61xx`` answer left (the card chains it again when
    Le is shorter). 6985 when nothing waits; without Le 6700, the rest still waiting."""
    ctx.note.action = "get_response"
    if command.p1p2 != 0:
        raise CardError(SW.INCORRECT_P1P2, "GET RESPONSE takes P1P2 = 0000")
    if not pending:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no response is waiting")
    if command.le is None:
        ctx.session.pending = pending
        raise CardError(SW.WRONG_LENGTH, "GET RESPONSE needs Le")
    return pending


def get_challenge(command: CommandApdu, ctx: Context) -> bytes:
    """GET CHALLENGE: Le random bytes (1–256; an extended Le 6985, as a card, §1.3, §2.7)."""
    ctx.note.action = "get_challenge"
    if command.p1p2 != 0:
        raise CardError(SW.INCORRECT_P1P2, "GET CHALLENGE takes P1P2 = 0000")
    if command.le is None:
        raise CardError(SW.WRONG_LENGTH, "GET CHALLENGE needs Le")
    if command.extended:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "at most 256 bytes")  # as a card (§1.3)
    return os.urandom(command.le)


def get_data(command: CommandApdu, ctx: Context) -> bytes:
    """GET DATA: 5F51 (the contact ATR without TS, §1.2) everywhere; the other objects at MF level
    only (``card_emulator.mf.get_data``, §8), 6A88 in an application."""
    ctx.note.action = "get_data"
    if command.p1p2 == 0x5F51:  # the contact ATR without TS, on every interface (§1.2)
        if command.le is None:
            raise CardError(SW.WRONG_LENGTH, "GET DATA needs Le")
        return bytes.fromhex(ctx.memory.meta["atr"])[1:]
    if ctx.session.app is not None:  # the other objects answer at MF level only (§8)
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "no such data object in an application")
    return mf.get_data(command, mf.objects_from_meta(ctx.memory.meta))


def secure_messaging(command: CommandApdu, ctx: Context) -> bytes:
    """A command under secure messaging (CLA 08/0C): the text AP unwraps it (``sm.secure_command``,
    §5.7); in another application 69FC (no session), a SELECT there or anything with no
    application selected 6882 (§1.3)."""
    app_name = ctx.session.app
    if app_name is AppName.TEXT:
        app = APPLICATIONS[app_name]

        def run(plain: CommandApdu) -> bytes:
            return app.select_ef(plain, ctx) if plain.ins == 0xA4 else app.handle(plain, ctx)

        return sm.secure_command(command, ctx, run)
    if command.ins != 0xA4 and app_name is not None:  # SM CLA in JPKI AP etc. (§1.3)
        raise CardError(SW.SM_SESSION_BROKEN, "no secure-messaging session")
    raise CardError(SW.SECURE_MESSAGING_NOT_SUPPORTED, "secure messaging not supported")
