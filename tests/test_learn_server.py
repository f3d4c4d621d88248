"""The learning page's server and lesson without a browser: a real card, loopback only, the page's
JSON API, and the defences of a local page (host check, same origin, JSON only, no logging)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from card_emulator.rules import PinName
from card_emulator.teaching.lesson import Lesson, LessonError, scenario_steps
from card_emulator.web.server import LearnApp, LearnError, check_loopback, make_server, url_of


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, int, LearnApp]]:
    app = LearnApp(seed=5)
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1], app
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def request(served: tuple[str, int, LearnApp], method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    host, port, _ = served
    connection = http.client.HTTPConnection(host, port, timeout=30)
    payload = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if payload is not None else {}
    connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def test_the_page_and_its_files_are_served_with_a_strict_policy(served: Any) -> None:
    status, headers, body = request(served, "GET", "/")
    assert status == 200 and b'data-testid="pin-choice"' in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    for name in ("app.js", "style.css"):
        assert request(served, "GET", f"/static/{name}")[0] == 200
    assert request(served, "GET", "/static/../server.py")[0] == 404
    for name in ("index.html", "app.js", "style.css"):  # no CDN, no outside file: works offline
        text = request(served, "GET", f"/static/{name}")[2]
        assert b"http://" not in text and b"https://" not in text and b"//cdn" not in text


def test_a_request_for_another_host_is_refused(served: Any) -> None:
    assert request(served, "GET", "/api/state", headers={"Host": "attacker.example"})[0] == 421


def test_a_cross_origin_or_non_json_post_is_refused(served: Any) -> None:
    status, _, _ = request(served, "POST", "/api/advance", {"days": 1},
                           headers={"Origin": "http://attacker.example"})  # fmt: skip
    assert status == 403
    host, port, _ = served
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("POST", "/api/advance", body=b"days=1",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert connection.getresponse().status == 415


def test_the_api_drives_the_real_card(served: Any) -> None:
    app: LearnApp = served[2]
    right = app.lesson.known[PinName.TEXT_INPUT_HELPER]
    wrong = "0000" if right != "0000" else "9999"
    status, _, body = request(served, "POST", "/api/enter", {"pin": "text", "value": wrong})
    data = json.loads(body)
    assert status == 200 and data["entry"]["sw"] == "63C2" and data["entry"]["remaining"] == 2
    assert app.lesson.card.issuer.pin_status(PinName.TEXT_INPUT_HELPER).remaining == 2
    bad = request(served, "POST", "/api/enter", {"pin": "bank", "value": "1"})
    assert bad[0] == 400 and b"is not a PIN name" in bad[2]
    assert request(served, "POST", "/api/nothing", {})[0] == 404


def test_the_lesson_counts_across_days_and_services_and_resets_at_the_window() -> None:
    lesson = Lesson(seed=9)
    lesson.use("mynaportal", right=False)
    lesson.advance(1)
    lesson.use("konbini", right=False)
    lesson.advance(7)
    result = lesson.use("clinic", right=False)
    assert result["entry"]["locked"] and result["entry"]["sw"] == "63C0"
    refused = lesson.use("clinic", right=True)
    assert (
        refused["entry"]["sw"] == "6984" and "even the right PIN" in refused["entry"]["text"]["en"]
    )
    assert "6984" not in refused["entry"]["text"]["en"]  # learner words, no status words
    plan = lesson.plan("user-auth", "kiosk", "holder", 2024)
    assert [r["code"] for r in plan["refusals"]] == ["kiosk_2024_signing_only"]
    kiosk_2025 = lesson.plan("user-auth", "kiosk", "holder", 2025)
    assert kiosk_2025["refusals"] == []
    assert kiosk_2025["steps"][1]["source"]["assumption"]  # the 24 hours under the 2025 rule
    done = lesson.reset("user-auth", "window", "holder", 2025)
    assert done["done"] and lesson.card.issuer.pin_status(PinName.USER_AUTH).remaining == 3
    hint = lesson.enter("user-auth", "１２３４")
    assert hint["entry"]["kind"] == "not_sent" and "半角" in hint["entry"]["text"]["ja"]
    with pytest.raises(LessonError):
        lesson.advance(0)


def test_a_scenario_as_steps() -> None:
    steps = scenario_steps("01")
    assert steps["ok"] and [s["sw"] for s in steps["steps"]] == ["63C2", "63C1", "63C0", "6984"]
    assert steps["steps"][2]["place"]["en"] == "clinic"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org", "::"])
def test_only_loopback_addresses(host: str) -> None:
    with pytest.raises(LearnError, match="loopback"):
        check_loopback(host)
    english = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    done = subprocess.run([sys.executable, "-m", "card_emulator.cli", "learn", "--host", host],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=english)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "loopback" in done.stderr


def test_a_japanese_run_refuses_a_host_in_japanese() -> None:
    """One language per run: `LANG=ja_JP.UTF-8 mynacard learn --host 0.0.0.0` said it in English."""
    japanese = {**os.environ, "LANG": "ja_JP.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    done = subprocess.run([sys.executable, "-m", "card_emulator.cli", "learn", "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=japanese)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "ループバックアドレス" in done.stderr and "listens" not in done.stderr


def test_the_url_is_the_loopback_address() -> None:
    server = make_server(LearnApp(seed=2), "localhost", 0)
    try:
        assert url_of(server).startswith("http://127.0.0.1:")
    finally:
        server.server_close()
