"""Browser tests of the web console: a real `tocsin serve` in a subprocess over a seeded database, driven by
Debian's chromium through Playwright (sync API). One server per database for the whole run; a fresh browser
context per test.

Without /usr/bin/chromium (`scripts/setup-browser` installs it) the tests are skipped, except under CI=true,
where they fail. Screenshots go to TOCSIN_SCREENSHOT_DIR, else .tocsin/screenshots/ in the repository.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.seed import PASSWORDS, Seeded, draft_in_review, seed
from tests.conftest import _postgres_schema, _reset_caches
from tests.helpers import ROOT

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1366, "height": 768}


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("TOCSIN_SCREENSHOT_DIR") or ROOT / ".tocsin" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Any, name: str) -> Path:
    """The whole page as `<name>.png` in the screenshot folder (overwritten by every run)."""
    path = screenshot_dir() / f"{name}.png"
    frames = page.locator("iframe")
    for n in range(frames.count()):  # chromium paints a frame below the fold only once it has been in view
        frames.nth(n).scroll_into_view_if_needed()
    page.mouse.wheel(0, -100_000)
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Console:
    url: str
    home: Path
    database_url: str
    data: Seeded
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(ROOT / ".venv" / "bin" / "tocsin"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if not Path(command[0]).exists():
        command[:1] = [sys.executable, "-m", "tocsin"]
    with log.open("ab") as output:  # the server keeps its own copy of the descriptor
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not _healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            _stop(server)
            raise AssertionError(f"tocsin serve did not start on {url}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return server, url


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _seed_env(home: Path, database_url: str) -> dict[str, str]:
    return {
        "TOCSIN_HOME": str(home),
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_USER": "tester",
        "TOCSIN_PLAYBOOK_EXECUTOR": "inline",
    }


def _server_env(home: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(_seed_env(home, database_url), TOCSIN_TIMEZONE="Europe/Paris")
    env["TOCSIN_LOGIN_FILE"] = str(home / "no-login.json")  # a developer's own `tocsin login` must not apply
    return env


# Test modules choose the database(s) with these; pytest then runs every test of one database against the same
# server (package scope: one seeded server per database for tests/browser, stopped with Playwright when the
# package ends, so its event loop never reaches other tests; each test makes its own draft).
SQLITE = pytest.mark.parametrize("console", ["sqlite"], indirect=True, scope="package")
BOTH_DATABASES = pytest.mark.parametrize(
    "console", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True, scope="package"
)


@pytest.fixture(scope="package")
def console(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A seeded database and `tocsin serve` on a free port: SQLite, or a fresh schema of the test PostgreSQL
    when parametrized (indirectly) with "postgres"."""
    request.getfixturevalue("browser")  # skipped (or failed under CI) without chromium: no server for nothing
    backend = getattr(request, "param", "sqlite")
    home = tmp_path_factory.mktemp(f"console-{backend}") / "home"
    patch = pytest.MonkeyPatch()
    schema: Iterator[str] | None = None
    try:
        if backend == "postgres":
            request.getfixturevalue("postgres_available")
            schema = _postgres_schema(patch)
            database_url = next(schema)
        else:
            database_url = f"sqlite:///{home / 'tocsin.db'}"
        for key, value in {**_seed_env(home, database_url), "TOCSIN_TIMEZONE": "UTC"}.items():
            patch.setenv(key, value)
        patch.delenv("TOCSIN_CONFIG", raising=False)
        _reset_caches()
        data = seed(home / "seed")
        patch.undo()
        _reset_caches()
        log = home / "serve.log"
        server, url = _start_server(_server_env(home, database_url), log)
        try:
            yield Console(url=url, home=home, database_url=database_url, data=data, log=log)
        finally:
            _stop(server)
    finally:
        patch.undo()
        _reset_caches()
        if schema is not None:
            next(schema, None)  # drops the schema


@pytest.fixture
def fresh_draft(console: Console, monkeypatch: pytest.MonkeyPatch) -> int:
    """A new regulator notice for the breach, written by bob and awaiting legal's decision (one per test, so
    tests sharing the server do not decide each other's drafts)."""
    for key, value in _seed_env(console.home, console.database_url).items():
        monkeypatch.setenv(key, value)
    _reset_caches()
    try:
        return draft_in_review(console.home / "seed", console.data.incident)
    finally:
        _reset_caches()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run scripts/setup-browser (or `make test`) to install Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: the browser tests must run)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


def _context(browser: Any, console: Console, **options: Any) -> Any:
    context = browser.new_context(viewport=VIEWPORT, base_url=console.url, locale="en-GB", **options)
    context.set_default_timeout(10_000)
    return context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


def _keep_evidence(request: pytest.FixtureRequest, page: Any) -> None:
    """After a failed test: the page it ended on, as FAILED-<test>.png and .html beside the screenshots."""
    if not request.node.stash.get(FAILED, False):
        return
    name = "FAILED-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
    try:
        page.screenshot(path=str(screenshot_dir() / f"{name}.png"), full_page=True)
        (screenshot_dir() / f"{name}.html").write_text(f"<!-- {page.url} -->\n" + page.content())
    except Exception as error:  # the page may be gone; the test's own failure is what matters
        print(f"could not keep the failed page: {error}")


def _page_in_fresh_context(request: pytest.FixtureRequest, browser: Any, console: Console, **options: Any) -> Any:
    context = _context(browser, console, **options)
    try:
        opened = context.new_page()
        yield opened
        _keep_evidence(request, opened)
    finally:
        context.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any, console: Console) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies) on the console."""
    yield from _page_in_fresh_context(request, browser, console, timezone_id="Europe/Paris")


@pytest.fixture
def nojs_page(request: pytest.FixtureRequest, browser: Any, console: Console) -> Iterator[Any]:
    """The same, with JavaScript switched off."""
    yield from _page_in_fresh_context(request, browser, console, java_script_enabled=False)


def log_in(page: Any, handle: str, password: str | None = None, *, then: str = "/incidents") -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"/login?next={then}")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Password").fill(password if password is not None else PASSWORDS[handle])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
