"""The merchant's receiver for bench/webhook_fanout.py: a minimal aiohttp server on 127.0.0.1
that answers every POST 200 at once and notes when it came and its `webhook-id` (the event id).

`.venv/bin/python bench/webhook_receiver.py --port N`; `GET /stats` gives what it got so far
(count, first and last arrival as unix seconds, the event ids), `POST /reset` forgets it, so one
receiver serves the consumer's run and then the client ceiling. It does not check signatures:
it stands for the fastest merchant possible, so the figure is the sender's.
"""
from __future__ import annotations

import argparse
import time

from aiohttp import web


class Tally:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.event_ids: list[str] = []
        self.bytes = 0

    def note(self, event_id: str, size: int) -> None:
        now = time.time()
        if self.first is None:
            self.first = now
        self.last = now
        self.event_ids.append(event_id)
        self.bytes += size


def build(tally: Tally) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        tally.note(request.headers.get("webhook-id", ""), len(body))
        return web.Response(text="ok")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"count": len(tally.event_ids), "first": tally.first, "last": tally.last,
                                  "bytes": tally.bytes, "eventIds": tally.event_ids})

    async def reset(request: web.Request) -> web.Response:
        tally.reset()
        return web.json_response({"count": 0})

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    app.router.add_post("/{tail:.*}", receive)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    web.run_app(build(Tally()), host="127.0.0.1", port=port, access_log=None, print=None)
