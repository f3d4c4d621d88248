"""The learning page in a real browser: Debian's Chromium driven by selenium through chromedriver.

``mynacard learn`` runs as a learner starts it (a subprocess on a free loopback port); the tests go
through a whole lesson in English and in Japanese with the keyboard and the page's stable hooks
(``data-testid``), and fail on any console error. With ``MYNACARD_SCREENSHOTS=DIR`` they also save
the screenshots the README shows (``scripts/screenshots.sh``).

Chromium and chromedriver come from Debian (``scripts/setup.sh``); nothing is downloaded. In CI
(``CI=true``) a missing browser fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = os.environ.get("MYNACARD_SCREENSHOTS")

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        raise RuntimeError("chromium and chromium-driver are missing: run scripts/setup.sh")
    pytest.skip("no Debian chromium/chromium-driver here", allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only once the browser is known to exist
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``mynacard learn`` on a free port; its URL, from the ``ready:`` line it prints."""
    env = {**os.environ, "LANG": "C.UTF-8"}
    process = subprocess.Popen(
        [sys.executable, "-m", "card_emulator.cli", "learn", "--port", "0", "--lang", "en"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"ready: (http://127\.0\.0\.1:\d+/)\n", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium as root needs these flags and a fresh profile (no network use)."""
    profile = tempfile.mkdtemp(prefix="mynacard-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                 "--window-size=1200,1000", "--lang=en-US"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: Any, condition: Any, timeout: float = 60) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def by_id(driver: Any, testid: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def tries(driver: Any, pin: str) -> int:
    return int(by_id(driver, f"tries-{pin}").text)


def state(driver: Any, pin: str) -> str | None:
    value: str | None = by_id(driver, f"tries-{pin}").get_attribute("data-state")
    return value


def settled(driver: Any) -> None:
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("aria-busy") is None)


def click(driver: Any, testid: str) -> None:
    by_id(driver, testid).click()
    settled(driver)


def practice_value(driver: Any, name_en: str) -> str:
    """The practice card's PIN, as the page lists it (a synthetic TEST card's value)."""
    terms = driver.find_elements(By.CSS_SELECTOR, "#practice-values dt")
    values = driver.find_elements(By.CSS_SELECTOR, "#practice-values dd")
    for term, value in zip(terms, values, strict=True):
        if term.get_attribute("textContent") == name_en:
            text: str = value.get_attribute("textContent")
            return text
    raise AssertionError(name_en)


def type_pin(driver: Any, pin: str, value: str) -> None:
    """Choose the PIN and type the value with the keyboard; Enter submits."""
    Select(by_id(driver, "pin-choice")).select_by_value(pin)
    field = by_id(driver, "pin-input")
    field.clear()
    field.send_keys(value, Keys.ENTER)
    settled(driver)


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver: Any, name: str, width: int = 1200) -> None:
    if not SHOTS:
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 40, 4200))
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.2)
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))
    driver.set_window_size(1200, 1000)


def open_page(driver: Any, url: str, lang: str) -> None:
    driver.get(url)
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    click(driver, f"lang-{lang}")
    driver.find_element(By.ID, "restart").click()  # a fresh practice card for each lesson
    settled(driver)
    wait(driver, lambda d: all(tries(d, p) == m for p, m in
                               (("signing", 5), ("user-auth", 3), ("resident", 3), ("text", 3))))  # fmt: skip


WORDS = {
    "en": {"title": "Learn the PINs", "hint": "half-width", "locked_right": "even the right PIN",
           "reset": "counter is full again", "change": "マイナポータル (Mynaportal)"},
    "ja": {"title": "暗証番号を学ぶ", "hint": "半角", "locked_right": "正しい暗証番号でも使えません",
           "reset": "残り回数は最大に戻り", "change": "マイナポータル(オンライン)"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_whole_lesson(server: str, browser: Any, lang: str) -> None:
    driver = browser
    words = WORDS[lang]
    open_page(driver, server, lang)
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert words["title"] in driver.find_element(By.TAG_NAME, "h1").text
    options = [o.get_attribute("value") for o in
               Select(by_id(driver, "pin-choice")).options]  # fmt: skip
    assert options == ["signing", "user-auth", "resident", "text"]
    right = practice_value(driver, "user-authentication PIN") if lang == "en" else None
    if right is None:
        click(driver, "lang-en")
        right = practice_value(driver, "user-authentication PIN")
        click(driver, f"lang-{lang}")
    wrong = "0000" if right != "0000" else "9999"

    # A full-width value is answered with a hint and never reaches the card.
    type_pin(driver, "user-auth", "１２３４")
    assert words["hint"] in by_id(driver, "result").text
    assert tries(driver, "user-auth") == 3

    # Wrong entries accumulate across services and days; one right entry restores the counter.
    type_pin(driver, "user-auth", wrong)
    assert tries(driver, "user-auth") == 2 and state(driver, "user-auth") == "warn"
    click(driver, "next-day")
    click(driver, "use-konbini-wrong")
    assert tries(driver, "user-auth") == 1
    click(driver, "next-week")
    assert tries(driver, "user-auth") == 1  # time does not reset the count
    type_pin(driver, "user-auth", right)
    assert tries(driver, "user-auth") == 3 and state(driver, "user-auth") == "ok"
    assert tries(driver, "signing") == 5  # the other PINs keep their own counters

    # Three wrong entries at three services lock it; then the right PIN is refused too.
    click(driver, "use-mynaportal-wrong")
    click(driver, "next-day")
    click(driver, "use-konbini-wrong")
    click(driver, "next-week")
    click(driver, "use-clinic-wrong")
    assert tries(driver, "user-auth") == 0 and state(driver, "user-auth") == "locked"
    type_pin(driver, "user-auth", right)
    assert tries(driver, "user-auth") == 0 and state(driver, "user-auth") == "locked"
    assert words["locked_right"] in by_id(driver, "result").text
    screenshot(driver, f"learn-locked.{lang}")

    # The reset wizard: a kiosk under the 2024 rule cannot reset it; the window can, in one visit.
    Select(by_id(driver, "wizard-pin")).select_by_value("user-auth")
    click(driver, "wizard-kiosk")
    click(driver, "wizard-2024")
    click(driver, "wizard-plan")
    wait(
        driver,
        lambda d: d.find_elements(
            By.CSS_SELECTOR, '[data-testid="refusal-kiosk_2024_signing_only"]'
        ),
    )
    driver.find_element(By.CSS_SELECTOR, 'input[name="channel"][value="window"]').click()
    click(driver, "wizard-plan")
    wait(driver, lambda d: by_id(d, "plan-visits").text.endswith("1"))
    click(driver, "wizard-proxy")
    click(driver, "wizard-plan")
    wait(driver, lambda d: by_id(d, "plan-visits").text.endswith("2"))
    assert "004" in by_id(driver, "plan").text  # every step names its seed page
    driver.find_element(By.CSS_SELECTOR, 'input[name="applicant"][value="holder"]').click()
    click(driver, "wizard-reset")
    assert words["reset"] in by_id(driver, "result").text
    assert tries(driver, "user-auth") == 3 and state(driver, "user-auth") == "ok"
    type_pin(driver, "user-auth", right)
    assert tries(driver, "user-auth") == 3
    screenshot(driver, f"learn.{lang}")

    # Where a PIN can be changed (seed 004): マイナポータル, not for the resident-registry PIN.
    assert words["change"] in by_id(driver, "changes").text

    # A classic scenario, step by step.
    Select(by_id(driver, "scenario-choice")).select_by_index(0)
    click(driver, "scenario-load")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="scenario-next"]'))
    while by_id(driver, "scenario-next").is_enabled():
        by_id(driver, "scenario-next").click()
    assert "6984" in by_id(driver, "scenario").text

    assert console_errors(driver) == []


def test_keyboard_alone_and_a_phone_sized_window(server: str, browser: Any) -> None:
    driver = browser
    open_page(driver, server, "en")
    # A phone's screen, as Chromium's device emulation draws it (a window cannot be this narrow).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})  # fmt: skip
    try:
        wait(
            driver, lambda d: d.execute_script("return document.documentElement.clientWidth") == 390
        )
        # Nothing wider than the phone's screen.
        overflow = driver.execute_script("""
            const w = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
              .filter((e) => e.getBoundingClientRect().right > w + 1)
              .map((e) => e.tagName + '.' + e.className);""")
        assert overflow == []
        # On a freshly loaded page, the first Tab reaches the skip link, which jumps to the pad.
        driver.get(server)
        wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        ActionChains(driver).send_keys(Keys.TAB).perform()
        active = driver.switch_to.active_element
        assert active.get_attribute("class") == "skip"
        active.send_keys(Keys.ENTER)
        by_id(driver, "pin-input").send_keys("0000", Keys.ENTER)  # for the signing password
        settled(driver)
        assert "Not sent to the card" in by_id(driver, "result").text
        assert tries(driver, "signing") == 5
        # Every control has an accessible name: a label, text, or aria-label.
        unnamed = driver.execute_script("""
            return [...document.querySelectorAll('button, select, input')].filter((e) => {
              const label = e.labels && e.labels.length ? e.labels[0].textContent.trim() : '';
              return !(label || e.textContent.trim() || e.getAttribute('aria-label'));
            }).map((e) => e.outerHTML);""")
        assert unnamed == []
        # Each counter says its state in words too, not by colour alone.
        counters = driver.find_elements(By.CSS_SELECTOR, ".counter[role=img]")
        assert len(counters) == 4 and all(c.get_attribute("aria-label") for c in counters)
        if SHOTS:
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": 390, "height": min(int(height), 4000),
                                    "deviceScaleFactor": 1, "mobile": True})  # fmt: skip
            driver.execute_script("window.scrollTo(0, 0)")
            time.sleep(0.3)
            driver.save_screenshot(str(Path(SHOTS) / "learn-phone.en.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert console_errors(driver) == []
