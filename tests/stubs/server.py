"""A local HTTP server standing in for a provider's API: it records requests and answers like the provider.

Only the provider is replaced; everything on our side (adapters, httpx, tasks) runs for real.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


# A responder returns (status, body) or (status, body, extra headers); bytes bodies are sent as they are.
Responder = Callable[[RecordedRequest], tuple[Any, ...]]


@dataclass
class StubServer:
    routes: list[tuple[str, re.Pattern, Responder]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""

    def route(self, method: str, pattern: str, responder: Responder) -> None:
        self.routes.insert(0, (method, re.compile(pattern), responder))

    def handle(self, recorded: RecordedRequest) -> tuple[Any, ...]:
        self.requests.append(recorded)
        for method, pattern, responder in self.routes:
            if method == recorded.method and pattern.fullmatch(recorded.path.split("?")[0]):
                return responder(recorded)
        return 404, {"error": f"no stub route for {recorded.method} {recorded.path}"}

    def start(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = RecordedRequest(
                    self.command, self.path, {k: v for k, v in self.headers.items()}, self.rfile.read(length)
                )
                status, body, *extra = stub.handle(recorded)
                headers = {"Content-Type": "application/json", **(extra[0] if extra else {})}
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
