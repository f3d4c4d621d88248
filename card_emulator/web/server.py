"""The learning page's HTTP server: loopback only, a random free port by default, no logging of
request bodies (a PIN typed on the page never reaches a log).

Why the standard library's ``http.server``: the page needs a dozen JSON routes and a few static
files for one local learner; ``ThreadingHTTPServer`` does that with no dependency to install,
audit or keep current. A framework (Flask, Starlette) would add packages and a second way of
running code for no feature the page uses.

Defences for a local page: it binds to 127.0.0.1 (or ::1) only and refuses other addresses; it
answers only requests whose ``Host`` is the loopback address it listens on (DNS rebinding); a POST
must be JSON from the page's own origin; every response forbids framing and sets a
Content-Security-Policy of ``'self'`` only.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import unquote, urlsplit

from card_emulator.teaching import lesson as lessons
from card_emulator.teaching.i18n import Lang
from card_emulator.web.strings import UI

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
MAX_BODY = 16 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class LearnError(ValueError):
    """A server that cannot start as asked (a non-loopback address): one line."""


class LearnApp:
    """The lesson behind the page and the routes of its API; one lock serialises the card."""

    def __init__(self, lang: Lang = Lang.EN, seed: int = 1) -> None:
        self.lang = lang
        self.seed = seed
        self.lock = threading.Lock()
        self.lesson = lessons.Lesson(seed)
        self._scenarios: dict[str, dict[str, Any]] = {}

    def get(self, path: str) -> Any:
        """The answer to ``GET /api/<path>``; KeyError for an unknown route."""
        if path == "state":
            return self.lesson.state()
        if path == "strings":
            return {"default": self.lang.value, "ui": {k: v.as_dict() for k, v in UI.items()}}
        if path == "changes":
            return lessons.change_places()
        if path == "seeds":
            return lessons.seed_pages()
        if path == "scenarios":
            return lessons.scenario_list()
        if path.startswith("scenario/"):
            name = path.split("/", 1)[1]
            if name not in self._scenarios:
                self._scenarios[name] = lessons.scenario_steps(name)
            return self._scenarios[name]
        raise KeyError(path)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """The answer to ``POST /api/<path>`` with a JSON object; KeyError for an unknown route,
        LessonError / TypeError / ValueError for a bad body."""
        lesson = self.lesson
        routes: dict[str, Callable[[], Any]] = {
            "enter": lambda: lesson.enter(_str(body, "pin"), _str(body, "value"),
                                          body.get("service") or None),
            "use": lambda: lesson.use(_str(body, "service"), bool(body.get("right"))),
            "advance": lambda: lesson.advance(_int(body, "days", 1)),
            "lock": lambda: lesson.lock(_str(body, "pin")),
            "plan": lambda: lesson.plan(*_wizard(body)),
            "reset": lambda: lesson.reset(*_wizard(body)),
            "restart": self._restart,
        }  # fmt: skip
        return routes[path]()

    def _restart(self) -> Any:
        self.lesson = lessons.Lesson(self.seed)
        return self.lesson.state()


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or len(value) > 64:
        raise lessons.LessonError(f"{key} must be a short string")
    return value


def _int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise lessons.LessonError(f"{key} must be a number")
    return value


def _wizard(body: dict[str, Any]) -> tuple[str, str, str, int, bool]:
    return (_str(body, "pin"), _str(body, "channel"), _str(body, "applicant"),
            _int(body, "year", 2025), bool(body.get("other_known", True)))  # fmt: skip


def _static(name: str) -> bytes | None:
    if "/" in name or name.startswith(".") or not name:
        return None
    item = resources.files("card_emulator.web").joinpath("static", name)
    return item.read_bytes() if item.is_file() else None


def make_handler(app: LearnApp, allowed_hosts: set[str]) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to ``app``, answering only requests for ``allowed_hosts``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "mynacard-learn"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: nothing a learner types may end up in a log."""

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            body = json.dumps(value, ensure_ascii=False).encode()
            self._send(status, body, "application/json; charset=utf-8")

        def _host_ok(self) -> bool:
            if self.headers.get("Host", "") not in allowed_hosts:
                self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "unknown host"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._host_ok():
                return
            path = unquote(urlsplit(self.path).path)
            if path in ("/", "/index.html"):
                path = "/static/index.html"
            if path.startswith("/static/"):
                name = path.removeprefix("/static/")
                data = _static(name)
                suffix = name[name.rfind(".") :] if "." in name else ""
                if data is None or suffix not in STATIC_TYPES:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                else:
                    self._send(HTTPStatus.OK, data, STATIC_TYPES[suffix])
                return
            if path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
                return
            if not path.startswith("/api/"):
                self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            with app.lock:
                try:
                    self._json(HTTPStatus.OK, app.get(path.removeprefix("/api/")))
                except KeyError:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                except lessons.LessonError as exc:
                    self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

        do_HEAD = do_GET

        def do_POST(self) -> None:
            if not self._host_ok():
                return
            origin = self.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc not in allowed_hosts:
                self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request"})
                return
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY:
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "too large"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
            except ValueError:
                self._json(HTTPStatus.BAD_REQUEST, {"error": "a JSON object is expected"})
                return
            path = urlsplit(self.path).path.removeprefix("/api/")
            with app.lock:
                try:
                    self._json(HTTPStatus.OK, app.post(path, body))
                except KeyError:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                except (lessons.LessonError, TypeError) as exc:
                    self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    return Handler


def check_loopback(host: str) -> None:
    """LearnError unless ``host`` is a loopback address (127.0.0.0/8, ::1) or "localhost"."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise LearnError(f"{host}: the learning page listens on loopback addresses only (127.0.0.1)")


def make_server(app: LearnApp, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server for ``app`` on ``host``:``port`` (0: a free port chosen by the system).

    LearnError for a non-loopback host; OSError when the port is taken.
    """
    check_loopback(host)
    address = "127.0.0.1" if host == "localhost" else host

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

    server = Server((address, port), make_handler(app, set()))
    real_port = server.server_address[1]
    shown = f"[{address}]" if ":" in address else address
    hosts = {f"{shown}:{real_port}", f"localhost:{real_port}"}
    server.RequestHandlerClass = make_handler(app, hosts)
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    """``http://127.0.0.1:PORT/`` of a running server."""
    raw_host, port = server.server_address[0], server.server_address[1]
    host = raw_host.decode() if isinstance(raw_host, bytes) else str(raw_host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"
