"""The control channel's socket server: Unix sockets (mode 0600, in the user's runtime directory),
one thread per connection, JSON lines in and out (docs/control-protocol.md). What each request does
is the handler's (card_emulator.transport.served.ServedCard).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from card_emulator.errors import CardFileError, EmulatorError, IssuerError
from card_emulator.steering import Contact
from card_emulator.trace import Exchange
from card_emulator.transport.control import (
    MAX_LINE,
    ControlClient,
    ControlError,
    ensure_runtime_dir,
)

__all__ = ["Connection", "ControlServer", "Handler"]

log = logging.getLogger(__name__)


@dataclass
class Connection:
    """One control connection's state: its own contact on the chip (a private session)."""

    contact: Contact | None = None
    captured: list[Exchange] = field(default_factory=list)


class Handler(Protocol):
    """What answers the requests (a ``ServedCard``)."""

    def hello(self) -> dict[str, Any]:
        """The first line a connection gets: protocol, version, server (docs/control-protocol.md)."""
        ...

    def handle(self, request: dict[str, Any], connection: Connection) -> dict[str, Any]:
        """The result of one request (its ``op`` and arguments); ``ControlError`` with a code for
        a refusal, which the server sends as ``{"ok": false, "error": ...}``."""
        ...


class ControlServer:
    """Listens on Unix sockets and answers each connection's JSON lines in a thread of its own.

    Written on the standard library's sockets and selectors rather than ``socketserver``: one
    server must listen on several paths and add or drop one while running (a swap renames the
    card's socket), which ``socketserver`` does not do.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._selector = selectors.DefaultSelector()
        self._listening: dict[Path, socket.socket] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread: threading.Thread | None = None
        self._closing = False
        self._guard = threading.Lock()

    def listen(self, path: Path, what: str) -> None:
        """Listen at ``path`` (mode 0600). ``ControlError`` ``busy`` when a live server is there;
        a socket left by a killed server is replaced."""
        ensure_runtime_dir()
        if path.exists() or path.is_symlink():
            try:
                with ControlClient(path, timeout=2.0) as other:
                    server = other.hello.get("server", {})
                raise ControlError(
                    f"{what} is already served by process {server.get('pid', '?')} "
                    f"(card {server.get('card', '?')}, reader {server.get('reader', {}).get('name', '?')})",
                    "busy",
                )
            except ControlError as error:
                if error.code == "busy":
                    raise
            except OSError:
                pass
            path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)  # created 0600: only this user may connect
        try:
            sock.bind(os.fspath(path))
        except OSError as error:
            sock.close()
            raise ControlError(f"cannot create the control socket {path}: {error}") from None
        finally:
            os.umask(old_mask)
        os.chmod(path, 0o600)
        sock.listen(16)
        sock.setblocking(False)
        with self._guard:
            self._listening[path] = sock
            self._selector.register(sock, selectors.EVENT_READ, path)
        self._wake()

    def unlisten(self, path: Path) -> None:
        """Stop listening on ``path`` and remove its socket file (nothing if it was not listened
        on)."""
        with self._guard:
            sock = self._listening.pop(path, None)
            if sock is not None:
                self._selector.unregister(sock)
        if sock is not None:
            sock.close()
            path.unlink(missing_ok=True)

    @property
    def paths(self) -> list[Path]:
        """The socket paths listened on now (card and reader sockets; docs/control-protocol.md)."""
        return list(self._listening)

    def start(self) -> None:
        """Serve in a daemon thread: accept connections, send each the hello line, answer requests."""
        self._thread = threading.Thread(target=self._accept_loop, name="control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (waits up to 5 s), close every socket and remove the socket files."""
        self._closing = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for path in list(self._listening):
            self.unlisten(path)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _accept_loop(self) -> None:
        while not self._closing:
            for key, _ in self._selector.select():
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                listener = key.fileobj
                assert isinstance(listener, socket.socket)
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                threading.Thread(
                    target=self._serve_connection, args=(conn,), name="control-conn", daemon=True
                ).start()

    def _serve_connection(self, conn: socket.socket) -> None:
        with conn:
            conn.setblocking(True)
            if not _same_user(conn):
                log.warning("control connection from another user refused")
                return
            stream = conn.makefile("rb")
            state = Connection()
            try:
                conn.sendall(_line(self._handler.hello()))
                while True:
                    line = stream.readline(MAX_LINE)
                    if not line:
                        return
                    conn.sendall(_line(self._answer(line, state)))
            except OSError:
                return
            finally:
                stream.close()

    def _answer(self, line: bytes, state: Connection) -> dict[str, Any]:
        request_id: Any = None
        try:
            if not line.endswith(b"\n"):
                raise ControlError(f"request longer than {MAX_LINE} bytes", "bad_request")
            try:
                request = json.loads(line)
            except ValueError:
                raise ControlError("not a JSON line", "bad_request") from None
            if not isinstance(request, dict):
                raise ControlError("a request is a JSON object", "bad_request")
            request_id = request.get("id")
            log.debug("control request %s", request.get("op"))  # never the arguments (PINs)
            started = time.perf_counter()
            result = self._handler.handle(request, state)
            log.debug("control %s answered in %.1f ms", request.get("op"),
                      (time.perf_counter() - started) * 1000)  # fmt: skip
            return {"id": request_id, "ok": True, "result": result}
        except ControlError as error:
            return _error(request_id, error.code, str(error))
        except IssuerError as error:
            return _error(request_id, "issuer", str(error))
        except CardFileError as error:
            return _error(request_id, "card_file", str(error))
        except EmulatorError as error:
            return _error(request_id, "failed", str(error))
        except Exception as error:  # a bug must not take the server down
            log.exception("control request failed")
            return _error(request_id, "internal", f"{type(error).__name__}: {error}")


def _error(request_id: Any, code: str, message: str) -> dict[str, Any]:
    return {"id": request_id, "ok": False, "error": {"code": code, "message": message}}


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _same_user(conn: socket.socket) -> bool:
    """SO_PEERCRED (Linux): only this user (or root) may steer the card. The socket's mode 0600
    already says so; this is the second lock on the door."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    raw = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid in (os.getuid(), 0)
