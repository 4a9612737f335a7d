"""A real HTTP server on 127.0.0.1 standing for an agency's system in tests.

It records every POST (message id, headers, body, when), can answer with a scripted series of
status codes (failing first), answer slowly, or hold a request until the test lets it go; and
it tracks how many requests for the same message are in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from panjereh.exchange.signing import MESSAGE_ID_HEADER, SIGNATURE_HEADER


@dataclass
class Received:
    """One POST the agency received."""

    message_id: str
    signature: str
    idempotency_key: str
    raw: bytes
    body: dict[str, Any]
    at: float


@dataclass
class AgencyServer:
    """Start with :meth:`start`; ``url`` is where it listens."""

    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    delay: float = 0.0
    hold_first: bool = False  # keep the first request open until ``release`` is set
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> AgencyServer:
        """Listen on a free port in a thread of its own."""
        agency = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                message_id = self.headers.get(MESSAGE_ID_HEADER, "")
                with agency.lock:
                    agency.in_flight[message_id] += 1
                    agency.max_in_flight[message_id] = max(
                        agency.max_in_flight[message_id], agency.in_flight[message_id]
                    )
                    first = not agency.received
                    agency.received.append(
                        Received(
                            message_id,
                            self.headers.get(SIGNATURE_HEADER, ""),
                            self.headers.get("Idempotency-Key", ""),
                            raw,
                            json.loads(raw),
                            time.time(),
                        )
                    )
                    status = agency.statuses.pop(0) if agency.statuses else 200
                agency.arrived.set()
                try:
                    if first and agency.hold_first:
                        agency.release.wait(30)
                    if agency.delay:
                        time.sleep(agency.delay)
                    data = b'{"ok": true}'
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the worker died while we held its request
                finally:
                    with agency.lock:
                        agency.in_flight[message_id] -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/inquiries"

    def stop(self) -> None:
        """Stop listening."""
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def unique(self) -> set[str]:
        """The distinct message ids received (what an agency deduplicating keeps)."""
        with self.lock:
            return {r.message_id for r in self.received}
