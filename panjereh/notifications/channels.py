"""The channels a notice travels through, behind one small interface.

Each channel takes a job's payload and either delivers it or raises; the worker retries a
failed job with backoff, and one channel's failure never holds up another's jobs.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.config import Settings
from panjereh.db import transaction
from panjereh.exchange.push import AGENCY_PUSH, AgencyPushChannel
from panjereh.exchange.signing import SIGNATURE_HEADER, sign
from panjereh.jobs.channel import Channel, DeliveryError
from panjereh.jobs.models import Job
from panjereh.notifications.models import Notification, WebhookSubscription
from panjereh.notifications.service import EMAIL, INBOX, WEBHOOK, report_dead_job


class _NoticeChannel(Channel):
    def dead(self, session: Session, job: Job, *, now: datetime) -> None:
        report_dead_job(session, job, now=now)


class InboxChannel(_NoticeChannel):
    """Puts the notice in the user's in-app inbox."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def send(self, payload: Mapping[str, Any], *, now: datetime) -> None:
        notice = payload["notice"]
        key = f"{payload['dedupe_key']}:{payload['user_id']}"
        with transaction(self.factory) as session:
            if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
                return  # an earlier attempt got this far before its worker died
            session.add(
                Notification(
                    user_id=payload["user_id"],
                    kind=notice["kind"],
                    title_en=notice["title_en"],
                    title_fa=notice["title_fa"],
                    body_en=notice["body_en"],
                    body_fa=notice["body_fa"],
                    inquiry_id=notice.get("inquiry_id"),
                    declaration_id=notice.get("declaration_id"),
                    dedupe_key=key,
                    created_at=now,
                )
            )


class EmailChannel(_NoticeChannel):
    """Sends the notice by email through an SMTP server, Persian first, English below."""

    def __init__(self, settings: Settings) -> None:
        self.host, self.port = settings.smtp_host, settings.smtp_port
        self.sender, self.timeout = settings.smtp_sender, settings.channel_timeout_seconds
        self.security = settings.smtp_security
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.ca_file = settings.smtp_ca_file

    def _connect(self) -> smtplib.SMTP:
        """A session with the server: over TLS when configured (the certificate verified),
        signed in when credentials are configured (only ever over TLS: see Settings)."""
        assert self.host is not None
        context = (
            ssl.create_default_context(cafile=self.ca_file) if self.security != "none" else None
        )
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, payload: Mapping[str, Any], *, now: datetime) -> None:
        if not self.host:
            raise DeliveryError("no SMTP server is configured (PANJEREH_SMTP_HOST)")
        notice = payload["notice"]
        message = EmailMessage()
        message["From"], message["To"] = self.sender, payload["to"]
        message["Subject"] = f"{notice['title_fa']} | {notice['title_en']}"
        message.set_content(f"{notice['body_fa']}\n\n---\n\n{notice['body_en']}\n")
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from error


class WebhookChannel(_NoticeChannel):
    """POSTs the notice as JSON to a subscriber, signed with the subscription's secret."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory, self.timeout = factory, settings.channel_timeout_seconds

    def send(self, payload: Mapping[str, Any], *, now: datetime) -> None:
        with self.factory() as session:
            hook = session.get(WebhookSubscription, payload["subscription_id"])
        if hook is None:
            return  # the subscription was removed: nothing left to deliver to
        body = json.dumps(
            {"id": payload["dedupe_key"], "notice": payload["notice"]},
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": payload["dedupe_key"],
            SIGNATURE_HEADER: sign(hook.secret, int(time.time()), body),
        }
        try:
            response = httpx.post(hook.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise DeliveryError(f"{hook.url}: {error}") from error
        if not response.is_success:
            raise DeliveryError(f"{hook.url} answered {response.status_code}")


def channels(factory: sessionmaker[Session], settings: Settings) -> dict[str, Channel]:
    """Every channel, by the job kind it delivers."""
    return {
        INBOX: InboxChannel(factory),
        EMAIL: EmailChannel(settings),
        WEBHOOK: WebhookChannel(factory, settings),
        AGENCY_PUSH: AgencyPushChannel(factory, settings),
    }
