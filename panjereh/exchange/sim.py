"""``panjereh agency-sim``: a small reference agency system, for demos, tests and as a model.

It receives pushed inquiries on 127.0.0.1 (verifying each signature and deduplicating on the
message id) or pulls its inbox and acknowledges; then, after a realistic delay, it answers
through the decision endpoint like any agency's system: signed, with a message id of its own
that stays the same if it has to retry. The mix of approvals, rejections and requests for
information, and the delays, are settings.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from panjereh.exchange.push import encode
from panjereh.exchange.signing import (
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    BadSignature,
    sign,
    verify,
)

log = logging.getLogger("panjereh.agency_sim")

REASONS = {
    "reject": [
        "The goods do not meet the national standard | کالا با استاندارد ملی مطابقت ندارد",
        "The certificate of origin is not valid | گواهی مبدأ معتبر نیست",
    ],
    "request_info": [
        "Send the laboratory test report | گزارش آزمون آزمایشگاه را ارسال کنید",
        "Send the manufacturer's health certificate | گواهی بهداشت تولیدکننده را ارسال کنید",
    ],
}


@dataclass
class SimSettings:
    """What the simulated agency does (also readable from a JSON file)."""

    agency: str
    api_url: str
    key: str
    signing_secret: str
    mode: str = "push"
    host: str = "127.0.0.1"
    port: int = 8101
    delay_min: float = 2.0
    delay_max: float = 30.0
    approve: float = 0.8
    reject: float = 0.05
    request_info: float = 0.15
    poll_seconds: float = 1.0
    seed: int | None = None

    @classmethod
    def from_file(cls, path: Path) -> SimSettings:
        """Settings from a JSON file (as ``panjereh agency demo-connect`` writes them)."""
        return cls(**json.loads(path.read_text()))


@dataclass(order=True)
class _Due:
    at: float
    inquiry_id: int = field(compare=False)
    cause: str = field(compare=False)  # the message that asked for this answer
    reply: bool = field(compare=False)


class AgencySim:
    """The simulated agency: takes messages in, answers later."""

    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.rng = random.Random(settings.seed)  # noqa: S311 - simulated answers, not secrets
        self.seen: dict[str, int] = {}  # message id → how many times it arrived
        self.closed: set[int] = set()
        self.due: list[_Due] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.decided = 0
        self.http = httpx.Client(
            base_url=settings.api_url,
            headers={"Authorization": f"Bearer {settings.key}"},
            timeout=10,
        )

    # Taking messages in -------------------------------------------------------------------

    def take(self, body: dict[str, Any]) -> bool:
        """Handle one message; False if it was a duplicate (already taken in)."""
        message_id = body["message_id"]
        with self.lock:
            self.seen[message_id] = self.seen.get(message_id, 0) + 1
            if self.seen[message_id] > 1:
                return False
            inquiry_id = int(body["inquiry"]["id"])
            kind = body["type"]
            if kind in ("inquiry.withdrawn", "inquiry.lapsed"):
                self.closed.add(inquiry_id)
                return True
            delay = self.rng.uniform(self.settings.delay_min, self.settings.delay_max)
            heapq.heappush(
                self.due,
                _Due(time.monotonic() + delay, inquiry_id, message_id, kind == "inquiry.replied"),
            )
        self.wake.set()
        return True

    # Answering ----------------------------------------------------------------------------

    def _outcome(self, after_reply: bool) -> str:
        s = self.settings
        if after_reply:  # the trader answered: mostly approve now, never ask again
            return "approve" if self.rng.random() < s.approve + s.request_info else "reject"
        roll = self.rng.random() * (s.approve + s.reject + s.request_info)
        if roll < s.approve:
            return "approve"
        return "reject" if roll < s.approve + s.reject else "request_info"

    def decide(self, due: _Due) -> None:
        """Answer one inquiry, retrying the same signed message until Panjereh answers."""
        outcome = self._outcome(due.reply)
        body: dict[str, Any] = {"outcome": outcome, "inquiry_id": due.inquiry_id}
        if outcome != "approve":
            body["reason"] = self.rng.choice(REASONS[outcome])
        content = encode(body)
        # One answer per message that asked for one: the same id however often it is sent,
        # and after a restart too.
        message_id = f"{self.settings.agency}-answer-{due.cause}"
        for attempt in range(8):
            if self.stop.is_set():
                return
            headers = {
                "Content-Type": "application/json",
                MESSAGE_ID_HEADER: message_id,
                SIGNATURE_HEADER: sign(
                    self.settings.signing_secret, int(time.time()), content, message_id
                ),
            }
            try:
                response = self.http.post(
                    f"/api/v1/inquiries/{due.inquiry_id}/decision", content=content, headers=headers
                )
            except httpx.HTTPError as error:
                log.warning("decision on %s failed (%s); retrying", due.inquiry_id, error)
                self.stop.wait(min(30, 2**attempt))
                continue
            status = response.status_code
            if status == 200:
                self.decided += 1
                log.info("inquiry %s: %s", due.inquiry_id, outcome)
            elif status >= 500 or (status == 409 and "concurrent-change" in response.text):
                self.stop.wait(min(30, 2**attempt))
                continue
            elif status in (401, 403):  # our key, secret or clock is wrong: say so loudly
                log.error("inquiry %s refused: %s %s", due.inquiry_id, status, response.text)
            else:  # closed meanwhile (withdrawn, answered by an officer): nothing to do
                log.info("inquiry %s: %s %s", due.inquiry_id, status, response.text)
            return

    def _decider(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                ready = self.due and self.due[0].at <= time.monotonic()
                item = heapq.heappop(self.due) if ready else None
                wait = (self.due[0].at - time.monotonic()) if self.due else 1.0
            if item is None:
                self.wake.wait(max(0.01, min(wait, 1.0)))
                self.wake.clear()
            elif item.inquiry_id not in self.closed:
                self.decide(item)

    # Receiving: push or pull --------------------------------------------------------------

    def _pull(self) -> None:
        while not self.stop.is_set():
            try:
                page = self.http.get("/api/v1/agency/inbox").json()
                messages = page.get("messages", [])
                for m in messages:
                    self.take(m["body"])
                if messages:
                    self.http.post(
                        "/api/v1/agency/inbox/ack",
                        json={"message_ids": [m["message_id"] for m in messages]},
                    ).raise_for_status()
                    continue  # acknowledged ones leave the inbox: read on from the start
            except (httpx.HTTPError, ValueError) as error:
                log.warning("pulling the inbox failed: %s", error)
            self.stop.wait(self.settings.poll_seconds)

    def server(self) -> ThreadingHTTPServer:
        """The HTTP server that takes pushes (not started)."""
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                content = self.rfile.read(length)
                try:
                    verify(
                        sim.settings.signing_secret,
                        self.headers.get(SIGNATURE_HEADER),
                        content,
                        now=time.time(),
                        message_id=self.headers.get(MESSAGE_ID_HEADER, ""),
                    )
                    body = json.loads(content)
                except (BadSignature, ValueError) as bad:
                    self._answer(401, {"error": str(bad)})
                    return
                fresh = sim.take(body)
                self._answer(200, {"received": body["message_id"], "duplicate": not fresh})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug(format, *args)

        return ThreadingHTTPServer((self.settings.host, self.settings.port), Handler)

    def run(self) -> None:
        """Run until :attr:`stop` is set."""
        threading.Thread(target=self._decider, daemon=True, name="decider").start()
        if self.settings.mode == "pull":
            self._pull()
            return
        httpd = self.server()
        threading.Thread(target=httpd.serve_forever, daemon=True, name="push").start()
        log.info(
            "agency %s takes pushes on http://%s:%s/",
            self.settings.agency,
            self.settings.host,
            self.settings.port,
        )
        self.stop.wait()
        httpd.shutdown()
