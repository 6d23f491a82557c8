"""Fake provider servers: small HTTP servers on 127.0.0.1 that speak each provider's real
wire format, so the real SDKs can be pointed at them through their base-URL options.

Every server records each request (method, path, query, headers, body) and answers
from a per-route script of :class:`Reply` values (or callables making one) before
falling back to its default, successful behaviour.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    route: str | None
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long first (longer than the client's timeout: a timeout)


Behaviour = Reply | Callable[[Recorded], Reply]


def json_reply(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None, delay_s: float = 0.0
) -> Reply:
    return Reply(
        status,
        json.dumps(obj).encode(),
        {"content-type": "application/json; charset=utf-8", **(headers or {})},
        delay_s,
    )


def malformed_json() -> Reply:
    return Reply(200, b'{"candidates": [ this is not json', {"content-type": "application/json"})


class FakeServer:
    """A scriptable fake. Subclasses implement :meth:`route`, :meth:`check_auth` and
    :meth:`default`."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self._script: dict[str, deque[Behaviour]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ to override
    def route(self, method: str, path: str) -> str | None:
        raise NotImplementedError

    def check_auth(self, req: Recorded) -> Reply | None:
        raise NotImplementedError

    def default(self, req: Recorded) -> Reply:
        raise NotImplementedError

    # ------------------------------------------------------------------ scripting
    def script(self, route: str, *behaviours: Behaviour) -> None:
        """Answer the next requests on ``route`` with these, in order."""
        with self._lock:
            self._script[route].extend(behaviours)

    def of(self, route: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ------------------------------------------------------------------ serving
    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(
            target=server.serve_forever, args=(0.02,), daemon=True, name="fake-server"
        ).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        req = Recorded(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            route=self.route(handler.command, parts.path),
        )
        with self._lock:
            self.requests.append(req)
            scripted = self._script[req.route].popleft() if self._script[req.route] else None
        reply = self._reply(req, scripted)
        if reply.delay_s and self._stop.wait(reply.delay_s):
            return
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _reply(self, req: Recorded, scripted: Behaviour | None) -> Reply:
        if req.route is None:
            return json_reply({"error": {"code": 404, "message": f"no route {req.path}"}}, 404)
        refused = self.check_auth(req)
        if refused is not None:
            return refused
        if scripted is None:
            return self.default(req)
        return scripted(req) if callable(scripted) else scripted


def serving(fake: FakeServer) -> Iterator[FakeServer]:
    """For a fixture: ``yield from serving(GoogleFake(key))``."""
    with fake:
        yield fake
