"""Per-provider scenarios for benchmarks/bench_providers.py."""
