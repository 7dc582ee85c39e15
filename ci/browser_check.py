"""A real browser opens the Airflow UI: headless Debian Chromium driven by Selenium through chromedriver.

It logs in through the auth manager's login form, opens the DAG list, waits until every expected DAG id
is on the page and saves a screenshot. Chromium runs with the flags this machine's closed network needs
(no background networking, no component updates) and a throwaway profile and home, whose NSS database
trusts the platform CA and nothing else added: a certificate that does not verify stops the check, as it
would stop a user's browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CERTUTIL = "/usr/bin/certutil"  # Debian's libnss3-tools
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000"]


class BrowserCheckError(RuntimeError):
    """The UI did not behave as a user needs it to (with what the page showed instead)."""


@dataclass(frozen=True)
class BrowserResult:
    """What the browser saw."""

    seconds: float
    screenshot: Path
    title: str


def trusting_home(ca_file: Path) -> str:
    """A new home folder whose NSS database (where Chromium on Linux reads the roots a user added) trusts
    ca_file to issue server certificates."""
    home = tempfile.mkdtemp(prefix="tiny-chromium-home-")
    nssdb = Path(home) / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for argv in ([CERTUTIL, "-N", "-d", f"sql:{nssdb}", "--empty-password"],
                 [CERTUTIL, "-A", "-d", f"sql:{nssdb}", "-n", "tiny-analytics platform CA", "-t", "C,,",
                  "-i", str(ca_file)]):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(home, ignore_errors=True)
            raise BrowserCheckError(f"certutil (Debian's libnss3-tools) could not run: {exc}") from exc
        if done.returncode != 0:
            shutil.rmtree(home, ignore_errors=True)
            raise BrowserCheckError(f"certutil could not trust {ca_file}: {done.stderr.strip() or done.stdout}")
    return home


def check_ui(url: str, username: str, password: str, dag_ids: list[str], screenshot: Path,
             timeout: float = 60.0, ca_file: Path | None = None, absent: tuple[str, ...] = ()) -> BrowserResult:
    """Log in at url and see every DAG in dag_ids on the DAG list, and none of `absent` once they are there;
    screenshot saved either way. An https url's certificate must verify against ca_file (added to a throwaway
    NSS database)."""
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="tiny-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    started = time.monotonic()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    home = trusting_home(ca_file) if ca_file else None
    env = {**os.environ, "HOME": home} if home else None  # selenium's Service replaces the environment
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env=env), options=options)
    except WebDriverException as exc:
        if home:
            shutil.rmtree(home, ignore_errors=True)
        raise BrowserCheckError(f"chromium did not start: {exc.msg}") from exc
    try:
        wait = WebDriverWait(driver, timeout)
        driver.get(f"{url}/dags")
        try:
            wait.until(lambda d: d.find_elements(By.NAME, "username") or _has_all(d, dag_ids))
        except TimeoutException as exc:
            raise BrowserCheckError(f"{url}: neither a login form nor the DAG list appeared "
                                    f"(page title {driver.title!r})") from exc
        if driver.find_elements(By.NAME, "username"):
            driver.find_element(By.NAME, "username").send_keys(username)
            driver.find_element(By.NAME, "password").send_keys(password)
            driver.find_element(By.CSS_SELECTOR, "[type=submit]").click()
        try:
            wait.until(lambda d: _has_all(d, dag_ids) or "Invalid login" in d.page_source)
        except TimeoutException as exc:
            missing = [dag for dag in dag_ids if dag not in driver.page_source]
            raise BrowserCheckError(f"after login the DAG list lacks {', '.join(missing)} "
                                    f"(at {driver.current_url}, title {driver.title!r})") from exc
        if "Invalid login" in driver.page_source:
            raise BrowserCheckError(f"the UI refused the login of {username} (see {screenshot})")
        shown = [dag for dag in absent if dag in driver.page_source]
        if shown:
            raise BrowserCheckError(f"{username}'s DAG list shows {', '.join(shown)} (see {screenshot})")
        return BrowserResult(time.monotonic() - started, screenshot, driver.title)
    finally:
        driver.save_screenshot(str(screenshot))
        driver.quit()
        if home:
            shutil.rmtree(home, ignore_errors=True)


def _has_all(driver: object, dag_ids: list[str]) -> bool:
    source = driver.page_source  # type: ignore[attr-defined]
    return all(dag in source for dag in dag_ids)
