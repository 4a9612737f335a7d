"""Notices reach a real SMTP server and a real HTTP endpoint; a failing channel is retried
with backoff and never holds up the others."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.db import transaction
from panjereh.jobs.models import Job
from panjereh.notifications.channels import SIGNATURE_HEADER, channels
from panjereh.notifications.models import WebhookSubscription
from panjereh.worker import Worker
from tests.conftest import declaration, item
from tests.processes import free_port

Login = Callable[[str], dict[str, str]]
BEEF = declaration(item("020130", description="Beef, boneless", origin_country="BR", value="900"))
SECRET = "whsec-test-0123456789abcdef"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Mailbox]]:
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, mailbox
    controller.stop()


class _Hook(BaseHTTPRequestHandler):
    answers: list[int]
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        status = self.answers.pop(0) if self.answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[type[_Hook]]:
    handler = type("Hook", (_Hook,), {"answers": [500], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/panjereh"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()


def _worker(
    factory: sessionmaker[Session], clock: ManualClock, settings: Settings, **overrides: Any
) -> Worker:
    configured = settings.model_copy(update=overrides)
    return Worker(factory, clock, configured, channels(factory, configured), name="w")


def _escalate_by_hand(client: TestClient, login: Login, make_user: Callable[..., str]) -> int:
    trader = make_user("trader", Role.TRADER)
    head = make_user("head-ivo", Role.AGENCY_HEAD, "IVO")
    inquiry = client.post("/api/v1/declarations", json=BEEF, headers=login(trader)).json()[
        "inquiries"
    ][0]
    response = client.post(
        f"/api/v1/inquiries/{inquiry['id']}/escalate",
        json={"reason": "Cargo of chilled beef waiting at the port"},
        headers=login(head),
    )
    assert response.status_code == 200, response.text
    inquiry_id: int = inquiry["id"]
    return inquiry_id


def test_email_arrives_at_a_real_smtp_server(
    client: TestClient,
    login: Login,
    make_user: Callable[..., str],
    clock: ManualClock,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[int, _Mailbox],
) -> None:
    port, mailbox = smtp
    make_user("supervisor", Role.SUPERVISOR, email="supervisor@itc.example")
    inquiry_id = _escalate_by_hand(client, login, make_user)
    worker = _worker(session_factory, clock, settings, smtp_host="127.0.0.1", smtp_port=port)
    assert worker.deliver_once() == 2  # the inbox and the email
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == "supervisor@itc.example"
    assert f"Inquiry {inquiry_id} was escalated by hand" in mail["Subject"]
    assert "ارجاع" in mail["Subject"]
    assert "chilled beef" in mail.get_content()
    assert worker.deliver_once() == 0  # delivered once, never again


def test_failing_email_is_retried_and_never_blocks_the_inbox(
    client: TestClient,
    login: Login,
    make_user: Callable[..., str],
    clock: ManualClock,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[int, _Mailbox],
) -> None:
    port, mailbox = smtp
    make_user("supervisor", Role.SUPERVISOR, email="supervisor@itc.example")
    _escalate_by_hand(client, login, make_user)
    closed = free_port()
    down = _worker(
        session_factory,
        clock,
        settings,
        smtp_host="127.0.0.1",
        smtp_port=closed,
        channel_timeout_seconds=2,
    )
    assert down.deliver_once() == 2
    notes = client.get("/api/v1/notifications", headers=login("supervisor")).json()
    assert [n["kind"] for n in notes] == ["escalation.manual"]  # the inbox did not wait
    with session_factory() as s:
        email = s.scalars(select(Job).where(Job.kind == "notify.email")).one()
        assert email.state == "pending" and email.attempts == 1 and email.last_error
        retry_at = email.next_attempt_at
    assert retry_at > clock.now()
    assert down.deliver_once() == 0  # not before its backoff
    clock.set(retry_at)
    up = _worker(session_factory, clock, settings, smtp_host="127.0.0.1", smtp_port=port)
    assert up.deliver_once() == 1
    assert len(mailbox.messages) == 1


RELAY_USER, RELAY_PASSWORD = "panjereh", "relay-secret-2026"


def _relay(ca: trustme.CA, mailbox: _Mailbox, logins: list[str], *, implicit: bool) -> Controller:
    """An SMTP relay on 127.0.0.1 as a real one is set up: TLS with a certificate from
    ``ca`` (STARTTLS required, or TLS from the first byte) and a password; ``logins`` hears
    of every successful sign-in."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    def authenticator(*args: Any) -> AuthResult:
        data = args[-1]
        known = isinstance(data, LoginPassword) and (data.login, data.password) == (
            RELAY_USER.encode(),
            RELAY_PASSWORD.encode(),
        )
        if known:
            logins.append(RELAY_USER)
        return AuthResult(success=known)

    options: dict[str, Any] = {"authenticator": authenticator}
    if implicit:
        # aiosmtpd does not see TLS it did not start itself: it offers AUTH only when told
        # not to require TLS for it (and then refuses to require AUTH: ``logins`` checks it).
        options.update(ssl_context=context, auth_require_tls=False)
    else:
        options.update(tls_context=context, require_starttls=True, auth_required=True)
    return Controller(mailbox, hostname="127.0.0.1", port=free_port(), **options)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_goes_through_a_relay_over_tls_with_a_password(
    client: TestClient,
    login: Login,
    make_user: Callable[..., str],
    clock: ManualClock,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    security: str,
) -> None:
    ca, stranger = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    stranger.cert_pem.write_to_path(str(tmp_path / "stranger.pem"))
    mailbox, logins = _Mailbox(), []
    relay = _relay(ca, mailbox, logins, implicit=security == "tls")
    relay.start()
    try:
        make_user("supervisor", Role.SUPERVISOR, email="supervisor@itc.example")
        _escalate_by_hand(client, login, make_user)
        smtp = {
            "smtp_host": "127.0.0.1",
            "smtp_port": relay.port,
            "smtp_security": security,
            "smtp_username": RELAY_USER,
            "smtp_password": SecretStr(RELAY_PASSWORD),
        }
        # A relay whose certificate this server does not trust gets nothing (not even the
        # password): the email waits for its retry.
        doubtful = _worker(
            session_factory, clock, settings, **smtp, smtp_ca_file=tmp_path / "stranger.pem"
        )
        assert doubtful.deliver_once() == 2
        with session_factory() as s:
            email = s.scalars(select(Job).where(Job.kind == "notify.email")).one()
            assert email.state == "pending" and "CERTIFICATE_VERIFY_FAILED" in email.last_error
            clock.set(email.next_attempt_at)
        assert mailbox.messages == []
        trusting = _worker(
            session_factory, clock, settings, **smtp, smtp_ca_file=tmp_path / "ca.pem"
        )
        assert trusting.deliver_once() == 1
        assert [m["To"] for m in mailbox.messages] == ["supervisor@itc.example"]
        assert logins == [RELAY_USER]
    finally:
        relay.stop()


def test_an_smtp_password_is_never_configured_without_tls() -> None:
    with pytest.raises(ValidationError, match="only over TLS"):
        Settings(env="development", smtp_username="u", smtp_password="p")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="go together"):
        Settings(env="development", smtp_security="starttls", smtp_username="u")


def test_webhook_is_signed_and_retried_after_a_500(
    client: TestClient,
    login: Login,
    make_user: Callable[..., str],
    clock: ManualClock,
    session_factory: sessionmaker[Session],
    settings: Settings,
    webhook: type[_Hook],
) -> None:
    with transaction(session_factory) as s:
        s.add(
            WebhookSubscription(
                agency_code=None,
                url=webhook.url,  # type: ignore[attr-defined]
                secret=SECRET,
                created_at=clock.now(),
            )
        )
    make_user("supervisor", Role.SUPERVISOR)
    _escalate_by_hand(client, login, make_user)
    worker = _worker(session_factory, clock, settings)
    worker.deliver_once()
    assert len(webhook.received) == 1  # answered 500
    with session_factory() as s:
        job = s.scalars(select(Job).where(Job.kind == "notify.webhook")).one()
        assert job.state == "pending" and "500" in (job.last_error or "")
        clock.set(job.next_attempt_at)
    worker.deliver_once()
    assert len(webhook.received) == 2
    with session_factory() as s:
        assert s.scalars(select(Job.state).where(Job.kind == "notify.webhook")).one() == "done"
    (first_headers, first_body), (headers, body) = webhook.received
    assert first_body == body
    assert headers["Idempotency-Key"] == first_headers["Idempotency-Key"]
    signature = dict(part.split("=", 1) for part in headers[SIGNATURE_HEADER].split(","))
    expected = hmac.new(
        SECRET.encode(), f"{signature['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature["v1"], expected)
    assert json.loads(body)["notice"]["kind"] == "escalation.manual"


def test_a_job_dies_after_its_last_attempt(
    client: TestClient,
    login: Login,
    make_user: Callable[..., str],
    clock: ManualClock,
    session_factory: sessionmaker[Session],
    settings: Settings,
    webhook: type[_Hook],
) -> None:
    webhook.answers = [503] * 20
    with transaction(session_factory) as s:
        s.add(
            WebhookSubscription(
                agency_code=None,
                url=webhook.url,  # type: ignore[attr-defined]
                secret=SECRET,
                created_at=clock.now(),
            )
        )
    make_user("supervisor", Role.SUPERVISOR)
    _escalate_by_hand(client, login, make_user)
    worker = _worker(session_factory, clock, settings)
    for _ in range(20):
        worker.deliver_once()
        clock.advance(timedelta(hours=1))
    with session_factory() as s:
        job = s.scalars(select(Job).where(Job.kind == "notify.webhook")).one()
    assert job.state == "dead" and job.attempts == job.max_attempts
    assert len(webhook.received) == job.max_attempts
    # The dead notice is not dropped quietly: the supervisors hear of it in their inbox.
    worker.deliver_once()
    kinds = [
        n["kind"] for n in client.get("/api/v1/notifications", headers=login("supervisor")).json()
    ]
    assert kinds.count("delivery.dead") == 1
