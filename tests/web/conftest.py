"""Fixtures for the web pages: the application with its pages, and a browser-like client that
keeps its cookies, reads the CSRF token from the page it was given, and signs in through the
form. Every test runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from panjereh import web
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.main import create_app
from tests.conftest import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


class Browser:
    """A TestClient used the way a browser uses the pages."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.last: Response | None = None
        self._csrf: str | None = None

    def _seen(self, response: Response) -> Response:
        self.last = response
        match = _CSRF.search(response.text)
        if match:
            self._csrf = html.unescape(match.group(1))
        return response

    def get(self, url: str, **kwargs: Any) -> Response:
        return self._seen(self.client.get(url, **kwargs))

    def csrf(self) -> str:
        """The session's CSRF token, as the last page that had a form showed it."""
        if self._csrf is None:
            self.get("/sign-in")
        assert self._csrf, "no CSRF token on the page"
        return self._csrf

    def form_token(self) -> str:
        """The per-form token (Idempotency-Key) of the last page."""
        assert self.last is not None
        match = _FORM_TOKEN.search(self.last.text)
        assert match, "no form token on the page"
        return match.group(1)

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> Response:
        """Post a form with this session's CSRF token (unless told not to)."""
        body = dict(data or {})
        if csrf and "csrf_token" not in body:
            body["csrf_token"] = self.csrf()
        return self._seen(self.client.post(url, data=body, **kwargs))

    def sign_in(self, username: str, password: str = PASSWORD) -> Response:
        """Sign in through the form."""
        self.get("/sign-in")
        response = self.post("/sign-in", {"username": username, "password": password})
        assert response.status_code == 303, response.text
        # Signing in starts a new session with a new CSRF token: read it from the next page.
        self._csrf = None
        self.get(response.headers["location"])
        return response

    def english(self) -> None:
        """Switch the pages to English (remembered in a cookie)."""
        self.post("/language", {"lang": "en", "next": "/"})


def make_web_app(settings: Settings, clock: ManualClock) -> Any:
    """The application with the web pages installed (``install`` is idempotent, so this keeps
    working once ``create_app`` installs them itself)."""
    app = create_app(settings, clock=clock)
    web.install(app)
    return app


@pytest.fixture
def web_app(settings: Settings, clock: ManualClock) -> Iterator[Any]:
    """The application with the pages."""
    app = make_web_app(settings, clock)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def browser(web_app: Any) -> Iterator[Browser]:
    """A browser-like client (redirects are not followed, so tests see them)."""
    with TestClient(web_app, follow_redirects=False) as client:
        yield Browser(client)


@pytest.fixture
def new_browser(web_app: Any) -> Iterator[Callable[[], Browser]]:
    """More browsers on the same application (another user, another session)."""
    clients: list[TestClient] = []

    def make() -> Browser:
        client = TestClient(web_app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def item_fields(index: int = 0, **overrides: str) -> dict[str, str]:
    """The form fields of one valid item (smartphones from China)."""
    values = {
        "hs_code": "851713",
        "description": "Smartphones",
        "origin_country": "CN",
        "quantity": "1200",
        "unit": "NAR",
        "value": "240000",
        "currency": "USD",
    }
    values.update(overrides)
    return {f"items-{index}-{k}": v for k, v in values.items()}


def declaration_fields(*items: dict[str, str], **overrides: str) -> dict[str, str]:
    """The new-declaration form, filled in (import at Shahid Rajaee)."""
    fields = {"kind": "import", "customs_office": "SHRJ", "province": "IR-22"}
    for row in items or (item_fields(),):
        fields.update(row)
    fields.update(overrides)
    return fields


@pytest.fixture
def file_for(session_factory: Any, clock: ManualClock) -> Callable[..., dict[str, int]]:
    """File a declaration for a trader through the flow (as the pages would); returns
    ``{"declaration": id, AGENCY_CODE: inquiry id, ...}``."""
    from sqlalchemy import select

    from panjereh.auth.models import User
    from panjereh.auth.service import principal_of
    from panjereh.db import transaction
    from panjereh.declarations.flows import file_declaration
    from panjereh.declarations.schemas import DeclarationIn
    from tests.conftest import declaration

    def file(username: str, body: dict[str, Any] | None = None) -> dict[str, int]:
        with transaction(session_factory) as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            filed = file_declaration(
                session=session,
                principal=principal_of(user),
                payload=DeclarationIn.model_validate(body or declaration()),
                at=clock.now(),
            )
            found = {"declaration": filed.id}
            found.update({i.agency_code: i.id for i in filed.inquiries})
        return found

    return file


def count_rows(session_factory: Any, model: Any) -> int:
    """How many rows a table has (to prove nothing was written)."""
    from sqlalchemy import func, select

    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def worker(session_factory: Any, clock: ManualClock, settings: Settings) -> Any:
    """A worker on the test's store and clock (its in-app channel fills the inbox)."""
    from panjereh.notifications.channels import channels
    from panjereh.worker import Worker

    return Worker(session_factory, clock, settings, channels(session_factory, settings))
