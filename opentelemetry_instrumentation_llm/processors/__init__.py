"""Span and log-record processors: error- and latency-aware trace sampling, and redaction."""
