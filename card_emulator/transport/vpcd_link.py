"""Getting the card into a vpcd reader: the connect to pcscd's vpcd driver, and being taken in.

``transport.vpcd``'s ``VpcdClient`` connects a card to a vpcd reader and serves it; the parts here
are those before the serving: a connect that ``stop()``/``remove()`` can cut short (a wake-up
socket beside the connecting one), every address of the host in turn, the one-line reasons the
client reports while it waits, the states it reports (:class:`ClientState`), and when pcscd has
taken the card in (:class:`Insertion`). Facts: pcsc-vpcd.md §2 (one card per port; a reader that
already holds a card keeps a new one in the kernel's backlog, or lets the connect time out).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import select
import socket
import time
from collections.abc import Callable

from card_emulator.transport.vpcd_wire import Apdu, GetAtr, PowerOn, Reset, VpcdEvent

__all__ = [
    "CONNECT_TIMEOUT",
    "ClientState",
    "Insertion",
    "connect",
    "drain",
    "wait_readable",
    "why_waiting",
]

CONNECT_TIMEOUT = 5.0  # seconds: a full backlog (another card in the reader) never answers


class ClientState(enum.Enum):
    """What ``VpcdClient`` reports to its ``on_state`` callback (always from the ``run`` thread)."""

    IDLE = "idle"  # run() not called yet
    WAITING = "waiting"  # vpcd not reachable (pcscd down, or port refused); retrying
    CONNECTED = "connected"  # TCP connected; pcscd has not taken the card in yet (a busy reader
    # keeps a second card in the kernel backlog, §2)
    BUSY = "busy"  # connected, but vpcd has not said a word for BUSY_AFTER s, or the connect
    # timed out: another card is in this reader. Still waiting; the caller may give up.
    READY = "ready"  # pcscd has powered the card up and read its ATR: SCardConnect works
    DISCONNECTED = "disconnected"  # vpcd closed the connection (pcscd stopped); will reconnect
    REMOVED = "removed"  # remove() took the card out; stays out until insert()
    STOPPED = "stopped"  # run() is returning


def connect(
    host: str, port: int, *, wake: socket.socket, interrupted: Callable[[], bool]
) -> socket.socket:
    """A blocking TCP socket to vpcd at ``host``:``port``, with TCP_NODELAY set.

    Every address of ``host`` is tried in turn, as ``socket.create_connection`` does
    (``localhost`` may give ::1 first while vpcd listens on IPv4 only). While a connect is in
    progress, a byte on ``wake`` (drained here) makes it ask ``interrupted()``.

    Raises:
        InterruptedError: ``interrupted()`` said so (before an address, or on a wake-up).
        TimeoutError: no answer in :data:`CONNECT_TIMEOUT` seconds (a busy reader, §2).
        OSError: the last address's error (refused, unreachable, unresolvable host, ...).
    """
    last: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if interrupted():
            raise InterruptedError("connect interrupted")
        try:
            return _connect_one(family, kind, proto, address, wake, interrupted)
        except InterruptedError:
            raise
        except OSError as exc:
            last = exc
    raise last if last is not None else OSError(f"no address for {host}")


def _connect_one(
    family: int,
    kind: int,
    proto: int,
    address: tuple[object, ...],
    wake: socket.socket,
    interrupted: Callable[[], bool],
) -> socket.socket:
    """A non-blocking connect to one address that a wake-up with ``interrupted()`` ends."""
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        err = sock.connect_ex(address)
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, os.strerror(err))
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while err:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("connect timed out")
            readable, writable, _ = select.select([wake], [sock], [], left)
            if readable:
                drain(wake)
                if interrupted():
                    raise InterruptedError("connect interrupted")
            if not writable:
                continue
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def drain(wake: socket.socket) -> None:
    """Empty the non-blocking wake-up socket ``wake`` (its bytes carry no meaning, only "look")."""
    with contextlib.suppress(OSError):
        while wake.recv(4096):
            pass


def wait_readable(wake: socket.socket, timeout: float | None) -> None:
    """Block until ``wake`` is readable or ``timeout`` seconds (None: no limit) have passed."""
    select.select([wake], [], [], timeout)


def why_waiting(host: str, port: int, exc: OSError) -> str:
    """The one-line reason, for a person, why a connect to vpcd at ``host``:``port`` failed with
    ``exc``, ending in "retrying" (the client tries again)."""
    where = f"{host}:{port}"
    if isinstance(exc, TimeoutError):
        return f"vpcd at {where} does not take the card (another card in this reader?); retrying"
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing listens at {where} (pcscd with vpcd not running?); retrying"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host {host!r} ({exc.strerror}); retrying"
    return f"vpcd not reachable at {where} ({exc}); retrying"


class Insertion:
    """When pcscd has taken the card in: READY is reported once per connection.

    On insertion pcscd polls (GET ATR), powers the card up and reads the ATR again (pcsc-vpcd.md
    §2); after that answer ``SCardConnect`` works. Any APDU also proves it. Should a pcscd never
    power the card up, the third presence poll is taken as enough.
    """

    __slots__ = ("_done", "_polls", "_powered")

    def __init__(self) -> None:
        self._done = False
        self._powered = False
        self._polls = 0

    def complete_after(self, event: VpcdEvent) -> bool:
        """True exactly once: after the answer to the event that completes the insertion."""
        if self._done:
            return False
        match event:
            case PowerOn() | Reset():
                self._powered = True
            case GetAtr():
                self._polls += 1
                self._done = self._powered or self._polls >= 3
            case Apdu():
                self._done = True
        return self._done
