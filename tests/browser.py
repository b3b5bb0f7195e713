"""A real browser for the web tests: the system's headless Chromium through its chromedriver
(Debian's chromium and chromium-driver), so nothing is downloaded. Selenium blocks, so the tests
call it in a worker thread (`browse`) while the app under test is served on the event loop."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
Result = TypeVar("Result")


@contextmanager
def chromium(downloads: Path | None = None) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, quit and removed afterwards; files it downloads
    go to `downloads`. Without them (a laptop, say) the browser tests are reported as skipped
    with the packages to install; `.ci/run` installs them, so CI never skips."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(60)
        if downloads is not None:
            driver.execute_cdp_cmd(
                "Browser.setDownloadBehavior",
                {"behavior": "allow", "downloadPath": str(downloads)},
            )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def browse(action: Callable[[], Result]) -> Result:
    """Run a blocking browser step off the event loop that serves the page."""
    return await asyncio.to_thread(action)
