"""Browser tests: Debian's Chromium, headless, driven by Playwright for Python, against a real
uvicorn server on 127.0.0.1 over a scratch SQLite store.

Without Chromium (or Playwright) the tests are skipped, unless PANJEREH_REQUIRE_BROWSER=1
(set by CI), when they fail: a green run must not hide a missing browser.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from panjereh.auth.models import Role
from panjereh.clock import SystemClock
from tests.e2e.server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    add_users,
    assets_ready,
    chromium_problem,
    live_server,
    prepare_store,
    sign_in,
)

REQUIRE_BROWSER = os.environ.get("PANJEREH_REQUIRE_BROWSER") == "1"
AGENCIES = (
    "IVO",
    "PPO",
    "IFDA",
    "INSO",
    "AEOI",
    "CRA",
    "DOE",
    "MCIG",
    "MIMT",
    "CBI",
    "MOD",
    "AGRI",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs in a real headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_available() -> None:
    """Skip (or, in CI, fail) when there is no browser to run."""
    problem = chromium_problem()
    if problem is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"browser tests are required but cannot run: {problem}")
    pytest.skip(f"browser tests skipped: {problem}")


@pytest.fixture(scope="session")
def server(
    chromium_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server for the browser tests, with traders and an officer for every agency."""
    assets_ready()
    clock = SystemClock()
    url = prepare_store(tmp_path_factory.mktemp("e2e") / "panjereh.db", clock=clock)
    users: list[tuple[str, Role, str | None, str]] = [
        ("trader-a", Role.TRADER, None, "بازرگانی آریا"),
        ("trader-b", Role.TRADER, None, "واردات کاوه"),
        ("trader-en", Role.TRADER, None, "Caspian Trading"),
    ]
    users += [(f"officer-{a.lower()}", Role.OFFICER, a, f"Officer {a}") for a in AGENCIES]
    add_users(url, users, clock=clock)
    with live_server(url) as running:
        yield running


@pytest.fixture(scope="session")
def chromium(chromium_available: None) -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def signed_in(
    server: LiveServer, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Open a page for a user, signed in through the form (each user in their own context).

    When the test fails, every page it opened is described in the report (its address and
    the text on it), so a failure in CI can be understood without a screen.
    """
    contexts: list[Any] = []

    def open_as(username: str, *, width: int = 1280) -> Any:
        context = chromium.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, server.url, username)
        return page

    yield open_as
    if request.node.stash.get(_FAILED, False):
        for context in contexts:
            for page in context.pages:
                text = page.evaluate("document.body ? document.body.innerText : ''")
                print(f"\n--- page at {page.url} ---\n{text[:3000]}")
    for context in contexts:
        context.close()
