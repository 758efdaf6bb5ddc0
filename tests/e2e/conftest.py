from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.collector import OTLPSink, Rotel, collector_pair


@pytest.fixture
def sink_and_collector() -> Iterator[tuple[OTLPSink, Rotel]]:
    """A sink and a collector that forwards to it; the collector is NOT started yet."""
    yield from collector_pair()


@pytest.fixture
def collector(sink_and_collector: tuple[OTLPSink, Rotel]) -> Rotel:
    sink_and_collector[1].start()
    return sink_and_collector[1]


@pytest.fixture
def sink(sink_and_collector: tuple[OTLPSink, Rotel]) -> OTLPSink:
    return sink_and_collector[0]


@pytest.fixture(autouse=True)
def _no_leftover_pipeline() -> Iterator[None]:
    yield
    from opentelemetry_instrumentation_llm import pipeline

    handle = pipeline.current()
    if handle is not None:
        handle.shutdown()
