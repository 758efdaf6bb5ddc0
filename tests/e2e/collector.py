"""A real OTLP collector (rotel) on loopback, forwarding to an OTLP sink the test reads.

    app --OTLP gRPC/HTTP--> rotel (receivers) --OTLP gRPC--> OTLPSink (this process)

Both start on free loopback ports. The collector can be killed and started again on the same
ports, to test an app that outlives its collector.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        threading.Event().wait(0.05)


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in key_values}


@dataclass
class ReceivedSpan:
    resource: dict[str, Any]
    scope: str
    name: str
    attributes: dict[str, Any]
    trace_id: bytes
    span_id: bytes
    status_code: int
    parent_span_id: bytes = b""


@dataclass
class ReceivedLog:
    resource: dict[str, Any]
    event_name: str
    attributes: dict[str, Any]
    trace_id: bytes
    span_id: bytes
    severity_number: int


class OTLPSink:
    """An OTLP gRPC receiver for traces, metrics and logs that keeps every request it gets."""

    def __init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self.trace_requests: list[Any] = []
        self.metric_requests: list[Any] = []
        self.log_requests: list[Any] = []
        sink = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                with sink._lock:
                    sink.trace_requests.append(request)
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                with sink._lock:
                    sink.metric_requests.append(request)
                return metrics_service_pb2.ExportMetricsServiceResponse()

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                with sink._lock:
                    sink.log_requests.append(request)
                return logs_service_pb2.ExportLogsServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self._server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self._server)
        self._server.add_insecure_port(f"127.0.0.1:{self.port}")

    def start(self) -> OTLPSink:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    def clear(self) -> None:
        with self._lock:
            self.trace_requests.clear()
            self.metric_requests.clear()
            self.log_requests.clear()

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            requests = list(self.trace_requests)
        found = []
        for request in requests:
            for rs in request.resource_spans:
                resource = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        found.append(
                            ReceivedSpan(
                                resource,
                                ss.scope.name,
                                span.name,
                                attributes(span.attributes),
                                span.trace_id,
                                span.span_id,
                                span.status.code,
                                span.parent_span_id,
                            )
                        )
        return found

    def logs(self) -> list[ReceivedLog]:
        with self._lock:
            requests = list(self.log_requests)
        found = []
        for request in requests:
            for rl in request.resource_logs:
                resource = attributes(rl.resource.attributes)
                for sl in rl.scope_logs:
                    for record in sl.log_records:
                        found.append(
                            ReceivedLog(
                                resource,
                                record.event_name,
                                attributes(record.attributes),
                                record.trace_id,
                                record.span_id,
                                record.severity_number,
                            )
                        )
        return found

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Metric name -> [(resource attributes, Metric proto)]."""
        with self._lock:
            requests = list(self.metric_requests)
        found: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for request in requests:
            for rm in request.resource_metrics:
                resource = attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        found.setdefault(metric.name, []).append((resource, metric))
        return found


class Rotel:
    """The rotel collector binary shipped by the ``rotel`` PyPI package, as a child process."""

    def __init__(self, sink: OTLPSink) -> None:
        import rotel

        self.binary = os.path.join(os.path.dirname(rotel.__file__), "rotel-agent")
        self.sink = sink
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> Rotel:
        self.process = subprocess.Popen(
            [
                self.binary,
                "start",
                "--otlp-grpc-endpoint",
                f"127.0.0.1:{self.grpc_port}",
                "--otlp-http-endpoint",
                f"127.0.0.1:{self.http_port}",
                "--exporter",
                "otlp",
                "--otlp-exporter-endpoint",
                f"http://127.0.0.1:{self.sink.port}",
                "--otlp-exporter-protocol",
                "grpc",
                "--batch-timeout",
                "50ms",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(lambda: port_open(self.grpc_port) and port_open(self.http_port), 15, "rotel to listen")
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        wait_until(lambda: not port_open(self.grpc_port), 10, "rotel to stop listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


def collector_pair() -> Iterator[tuple[OTLPSink, Rotel]]:
    sink = OTLPSink().start()
    collector = Rotel(sink)
    try:
        yield sink, collector
    finally:
        collector.stop()
        sink.stop()
