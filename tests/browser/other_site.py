"""Another origin (a different host name and port) serving pages that embed one of our snippets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.workers import free_port


@contextmanager
def host_site(pages: str | dict[str, str]) -> Iterator[str]:
    """Serve `pages` (path → HTML; a single string is the page at /) on http://localhost:<port>, while
    the app is on 127.0.0.1: another origin for the browser."""
    by_path = {"/": pages} if isinstance(pages, str) else pages

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            html = by_path.get(self.path.split("?")[0])
            body = (html or "not found").encode()
            self.send_response(200 if html else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
