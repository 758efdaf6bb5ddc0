"""A real HTTP/1.1 server on loopback serving :class:`FakeLLM` (JSON, chunked SSE, dropped connections)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from opentelemetry_instrumentation_llm.testing.fake_llm import CUT, FakeLLM


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the SDKs' connection pools behave as in production
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every response, which no real provider does.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.fake.handle(self.command, self.path, dict(self.headers), raw)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if isinstance(payload, bytes):
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        try:
            for event in payload:
                if event is CUT:
                    self._drop()
                    return
                self.wfile.write(b"%x\r\n" % len(event) + bytes(event) + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _drop(self) -> None:
        """Cut the connection mid-body, as a crashed upstream or a proxy timeout would."""
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_POST = _serve
    do_GET = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default backlog (5) drops bursts of concurrent connections
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, early stream close) are normal here, not errors.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeLLMServer:
    """``with FakeLLMServer() as server:`` then point an SDK at ``server.openai_base_url`` (or
    ``server.anthropic_base_url``). ``server.fake`` scripts replies and records requests."""

    def __init__(self, fake: FakeLLM | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake or FakeLLM()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self.fake
        address = self._httpd.server_address
        self.host: str = str(address[0])
        self.port: int = int(address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def start(self) -> FakeLLMServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.fake.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
