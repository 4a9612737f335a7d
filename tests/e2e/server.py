"""A real Panjereh server for browser tests: a scratch SQLite store (migrated and seeded like
``panjereh db upgrade``), users, and uvicorn on 127.0.0.1 on a free port, in a thread."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from panjereh import migrate, web
from panjereh.auth.models import Role
from panjereh.auth.principal import SYSTEM
from panjereh.auth.service import create_user
from panjereh.clock import Clock, SystemClock
from panjereh.config import Settings
from panjereh.dashboard import projector
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.demo.history import load_demo
from panjereh.exchange import service as exchange
from panjereh.exchange.models import Mode
from panjereh.main import create_app
from tests.processes import free_port

PASSWORD = "browser-test-password"  # scratch users of a scratch store

# Debian's Chromium; another path for another system through PANJEREH_CHROMIUM.
CHROMIUM = os.environ.get("PANJEREH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_problem() -> str | None:
    """Why a browser test cannot run here, or None if it can."""
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is not installed (Debian package chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed"
    return None


def assets_ready() -> None:
    """Build the vendor assets from node_modules when they are missing (pages work without
    them, but the browser tests should see htmx and the charts at work, as users do)."""
    from panjereh.web.assets import build
    from panjereh.web.templating import vendor_ready

    node_modules = Path(__file__).resolve().parents[2] / "node_modules"
    if not vendor_ready() and (node_modules / "htmx.org").is_dir():
        build(node_modules)


def sign_in(page: Any, base_url: str, username: str) -> None:
    """Sign ``page`` in as ``username`` (password :data:`PASSWORD`) through the form."""
    page.goto(f"{base_url}/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/sign-in'] button[type=submit]")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def prepare_store(path: Path, *, clock: Clock) -> str:
    """A migrated, seeded SQLite store at ``path``; returns its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    migrate.seed(engine, clock=clock)
    engine.dispose()
    return url


def history_store(
    path: Path,
    users: list[tuple[str, Role, str | None, str]],
    *,
    clock: Clock,
    declarations: int,
    days: int,
    pulling: tuple[str, ...] = (),
) -> str:
    """A store like :func:`prepare_store`'s holding a demo history of ``declarations`` over
    the last ``days`` (``panjereh demo-data``'s) and ``users`` (as :func:`add_users`), the
    whole log projected into the dashboard (so its figures are up to date); its URL. The
    agencies ``pulling`` have their systems connected (to pull) before the history, so
    messages for them wait, never taken in."""
    url = prepare_store(path, clock=clock)
    add_users(url, users, clock=clock)
    engine = make_engine(url)
    for agency in pulling:
        with transaction(make_session_factory(engine)) as session:
            exchange.connect(
                session=session,
                principal=SYSTEM,
                agency_code=agency,
                mode=Mode.PULL,
                endpoint_url=None,
                at=clock.now() - timedelta(days=days + 1),
            )
    load_demo(engine, declarations=declarations, days=days, seed=1405, now=clock.now())
    projector.catch_up(make_session_factory(engine))
    engine.dispose()
    return url


def add_users(url: str, users: list[tuple[str, Role, str | None, str]], *, clock: Clock) -> None:
    """Create (username, role, agency, full name) users with :data:`PASSWORD`."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        for username, role, agency, full_name in users:
            create_user(
                session=session,
                username=username,
                password=PASSWORD,
                role=role,
                agency_code=agency,
                at=clock.now(),
                full_name=full_name,
            )
    engine.dispose()


@dataclass
class LiveServer:
    """A running server and where it listens."""

    url: str
    app: Any
    server: uvicorn.Server


@contextmanager
def live_server(database_url: str, *, clock: Clock | None = None) -> Iterator[LiveServer]:
    """Serve the application (API and pages) with uvicorn until the block ends."""
    settings = Settings(env="test", database_url=database_url)
    app = create_app(settings, clock=clock or SystemClock())
    web.install(app)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="panjereh-e2e-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url, app, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()
