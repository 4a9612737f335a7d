"""A fast stand-in for an agency's endpoint, for the exchange benchmark: a bare ASGI app
served by uvicorn in a process of its own. It answers every POST 200 at once and keeps the
first time each message id arrived; ``GET /stats`` returns them.

    python -m bench.agency_receiver PORT
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import uvicorn

received = 0
first_seen: dict[str, float] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Take a push (record it, answer 200) or report what was taken."""
    global received
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        more = True
        while more:  # read the whole body, as a real endpoint would
            message = await receive()
            more = message.get("more_body", False)
        now = time.time()
        received += 1
        headers = dict(scope["headers"])
        first_seen.setdefault(headers.get(b"x-panjereh-message-id", b"").decode(), now)
        body = b'{"ok":true}'
    else:
        body = json.dumps({"received": received, "first_seen": first_seen}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
