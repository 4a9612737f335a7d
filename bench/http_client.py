"""A minimal HTTP/1.1 client for load: one kept-alive connection, one request at a time.

The HTTP benchmarks measure the server. On a 2-core machine the load generator shares the
cores with it, and httpx spends about 1 ms of CPU per request (more than the server spends on
a decision), so with httpx the benchmark mostly measured its own client: against a FastAPI
endpoint that does nothing, 4 httpx clients reach about 1,000 requests/s and use a whole core.
This client writes the request and reads the status line, headers and a ``Content-Length``
or chunked body with asyncio streams, as load generators like wrk do; it does nothing else
(no redirects, no cookies, no TLS, no compression).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass


class HttpError(RuntimeError):
    """The server closed the connection or sent something this client does not read."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: its status code, headers (lower-cased names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """A kept-alive HTTP/1.1 connection to ``host:port`` (open it with :meth:`open`)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        """Send one request and read its whole response."""
        if self._reader is None or self._writer is None:
            raise HttpError("the connection is not open")
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status_line = await self._reader.readline()
        if not status_line:
            raise HttpError("the server closed the connection")
        try:
            status = int(status_line.split(b" ", 2)[1])
        except (IndexError, ValueError):
            raise HttpError(f"not an HTTP status line: {status_line!r}") from None
        received: dict[str, str] = {}
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            received[name.strip().lower()] = value.strip()
        if "content-length" in received:
            content = await self._reader.readexactly(int(received["content-length"]))
        elif "chunked" in received.get("transfer-encoding", "").lower():
            content = await self._chunked()
        else:
            content = b""
        return Reply(status, received, content)

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readline()).split(b";", 1)[0], 16)
            if size == 0:
                await self._reader.readline()  # the blank line after the last chunk
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readline()
