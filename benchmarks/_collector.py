"""For benchmarks that need the real export path but not the data: a real collector (rotel, from
the ``rotel`` PyPI package) that discards what it receives, and the span export queue of a pipeline."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BlackholeCollector:
    process: subprocess.Popen[bytes]
    grpc_endpoint: str
    http_endpoint: str

    @classmethod
    def start(cls) -> BlackholeCollector:
        import rotel

        grpc_port, http_port = free_port(), free_port()
        binary = os.path.join(os.path.dirname(rotel.__file__), "rotel-agent")
        process = subprocess.Popen(
            [binary, "start", "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}",
             "--otlp-http-endpoint", f"127.0.0.1:{http_port}", "--exporter", "blackhole"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", grpc_port)) == 0:
                    break
            time.sleep(0.05)
        return cls(process, f"http://127.0.0.1:{grpc_port}", f"http://127.0.0.1:{http_port}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def span_export_queue(telemetry: Any) -> Any:
    """The batch span processor's queue, wherever setup() put it in the processor chain."""
    pending = list(telemetry.tracer_provider._active_span_processor._span_processors)
    while pending:
        processor = pending.pop()
        batch = getattr(processor, "_batch_processor", None)
        if batch is not None:
            return batch._queue
        pending.extend(getattr(processor, "_span_processors", ()))
        if getattr(processor, "downstream", None) is not None:
            pending.append(processor.downstream)
    return None
