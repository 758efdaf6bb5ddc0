"""Overhead of the instrumentation for the SDKs beyond OpenAI and Anthropic, over real loopback HTTP.

Run:  python benchmarks/bench_providers.py                 (every provider installed, ~2-4 minutes)
      python benchmarks/bench_providers.py --quick --providers groq,ollama

Each provider module in ``benchmarks/providers/`` builds its SDK clients against the fake provider
server on loopback and returns two callables: ``call`` (one non-streaming chat call) and
``stream64`` (one streamed call of 64 output chunks, fully consumed). Each is timed uninstrumented
and instrumented in alternating rounds in one process (instrument / uninstrument between them), with
the SDK's batch processors and discarding exporters, so drift hits both alike. Figures are the
minimum over rounds of the mean per call: interference only adds time. These SDKs talk httpx to a
real socket, so the baseline includes the loopback round trip and the ratio is the user-visible
cost; ``added`` is the absolute difference, comparable with ``bench_overhead.py``'s figures.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from benchmarks.bench_overhead import Pipeline, time_batch
from opentelemetry_instrumentation_llm.instrumentor import INSTRUMENTORS
from opentelemetry_instrumentation_llm.providers import PROVIDERS
from opentelemetry_instrumentation_llm.testing import FakeLLMServer

ALL = ("google_genai", "bedrock", "mistralai", "cohere", "groq", "ollama", "litellm")


def measure(fn: Callable[[], Any], instrumentor: Any, pipeline: Pipeline, rounds: int, n: int) -> tuple[float, float]:
    time_batch(fn, n)  # warm up: imports, connection pools
    instrumentor.instrument(**pipeline.providers)
    time_batch(fn, n)
    instrumentor.uninstrument()
    base, inst = [], []
    for _ in range(rounds):
        gc.collect()
        base.append(time_batch(fn, n))
        instrumentor.instrument(**pipeline.providers)
        gc.collect()
        inst.append(time_batch(fn, n))
        instrumentor.uninstrument()
    return min(base) * 1e6, min(inst) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    parser.add_argument("--providers", default=",".join(ALL), help="comma list")
    parser.add_argument("--batch", type=int, default=100, help="calls per timed batch (non-streaming)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 9
    print(f"python {sys.version.split()[0]}, rounds={rounds}, batch={args.batch}, transport=loopback http")
    print(f"{'scenario':34} {'baseline µs':>12} {'instr. µs':>10} {'added µs':>9} {'ratio':>6}")
    with FakeLLMServer() as server:
        for name in args.providers.split(","):
            if importlib.util.find_spec(PROVIDERS[name].sdk) is None:
                print(f"{name:34} skipped: {PROVIDERS[name].sdk} is not installed")
                continue
            module = importlib.import_module(f"benchmarks.providers.{name}")
            pipeline = Pipeline.create()
            scenarios = module.scenarios(server.url, server.fake)
            instrumentor = INSTRUMENTORS[name]()
            for label, fn in scenarios.items():
                n = args.batch if label == "call" else max(5, args.batch // 8)
                base, inst = measure(fn, instrumentor, pipeline, rounds, n)
                print(f"{name + ' ' + label:34} {base:12.1f} {inst:10.1f} {inst - base:9.1f} {inst / base:6.2f}")
            pipeline.tracer_provider.shutdown()
            pipeline.logger_provider.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
