"""The real collector and its sink, for the zero-code test (the same fixtures as tests/e2e)."""

from tests.e2e.conftest import collector, sink, sink_and_collector

__all__ = ["collector", "sink", "sink_and_collector"]
