"""Serve the application with several uvicorn workers on a listener that keeps TCP_NODELAY.

``python -m bench.serve --port N --workers W`` does what ``uvicorn --workers W`` does, with one
difference: the listening socket is created with ``proto=IPPROTO_TCP``. uvicorn's own
``Config.bind_socket`` leaves ``proto`` at 0; accepted sockets inherit it, and asyncio then
skips ``TCP_NODELAY``, so on Linux every keep-alive request after the first waits about 40 ms
for the client's delayed ACK (Nagle's algorithm). A single worker is not affected, because
asyncio builds that listener itself. The benchmark measures both launchers, so the figures
show the application's throughput and, separately, what the stock multi-worker server costs.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = uvicorn.Config(
        "panjereh.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        log_level="warning",
        access_log=False,
    )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.set_inheritable(True)
    Multiprocess(config, sockets=[listener]).run()


if __name__ == "__main__":
    main()
