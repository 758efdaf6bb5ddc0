"""Steady demo traffic for the local stack: real SDKs, instrumented by ``setup()``, calling the
package's embedded fake provider (no API key, no network).

    python deploy/demo/traffic.py                    # forever: the compose service ``llm-demo``
    python deploy/demo/traffic.py --iterations 3     # three rounds, then flush and exit

Unlike ``python -m opentelemetry_instrumentation_llm.demo`` (one pass, then a printed summary),
this keeps one process alive so that Prometheus sees proper cumulative counters, and it goes
through the production path: ``setup()`` reads the standard ``OTEL_*`` variables and ours.

Each round, every tenant makes a weighted random mix of calls inside
``llm_context(tenant_id=..., feature=..., user_id=...)``: OpenAI and Anthropic chats, streams (so
the time-to-first-chunk and time-per-output-chunk histograms fill), embeddings, a rate-limited
call and a server error (``error.type`` 429 / 500), and now and then a slow call (for the latency
panels, the p99 alert and the gateway's tail sampling). The user id reaches spans only, never
metrics. Costs need prices for the fake server: ``deploy/demo/prices.json`` is named by
``OTEL_INSTRUMENTATION_LLM_PRICES_FILE`` in the compose file.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

import anthropic
import openai

import opentelemetry_instrumentation_llm as llm
from opentelemetry_instrumentation_llm.testing import FakeLLMServer, Reply

TENANTS = ("acme", "globex", "initech")
FEATURES = ("chat", "search", "summarise")
WORDS = ("observability", "latency", "tokens", "trace", "metric", "span", "budget", "model", "prompt", "cache")

Call = Callable[[], object]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


class Traffic:
    """The calls one round is drawn from, with their weights."""

    def __init__(self, server: FakeLLMServer, rng: random.Random, slow_s: float, error_weight: int = 1) -> None:
        self.rng = rng
        self.fake = server.fake
        self.slow_s = slow_s
        self.openai = openai.OpenAI(api_key="sk-demo-not-a-real-key", base_url=server.openai_base_url, max_retries=0)
        self.anthropic = anthropic.Anthropic(
            api_key="sk-ant-demo-not-a-real-key", base_url=server.anthropic_base_url, max_retries=0
        )
        self.calls: list[tuple[str, int, Call]] = [
            ("openai chat", 6, self.openai_chat),
            ("openai stream", 4, self.openai_stream),
            ("anthropic message", 4, self.anthropic_message),
            ("anthropic stream", 2, self.anthropic_stream),
            ("openai embeddings", 2, self.embeddings),
            ("openai rate limited", error_weight, self.rate_limited),
            ("anthropic server error", error_weight, self.server_error),
            ("openai slow chat", 1, self.slow_chat),
        ]

    def pick(self) -> tuple[str, Call]:
        name, _, call = self.rng.choices(self.calls, weights=[w for _, w, _ in self.calls])[0]
        return name, call

    def openai_chat(self) -> object:
        self.fake.push(Reply(text=_sentence(self.rng, 5, 60)))
        model = self.rng.choice(("gpt-4o-mini", "gpt-4o"))
        return self.openai.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": _sentence(self.rng, 5, 80)},
            ],
        )

    def openai_stream(self) -> object:
        self.fake.push(Reply(text=_sentence(self.rng, 10, 80), chunks=self.rng.randint(4, 16), chunk_delay=0.01))
        stream = self.openai.chat.completions.create(
            model="gpt-4o-mini",
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": _sentence(self.rng, 5, 40)}],
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    def anthropic_message(self) -> object:
        self.fake.push(Reply(text=_sentence(self.rng, 5, 60)))
        return self.anthropic.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=512,
            messages=[{"role": "user", "content": _sentence(self.rng, 5, 80)}],
        )

    def anthropic_stream(self) -> object:
        self.fake.push(Reply(text=_sentence(self.rng, 10, 60), chunks=self.rng.randint(3, 10), chunk_delay=0.01))
        with self.anthropic.messages.stream(
            model="claude-haiku-4-5", max_tokens=256, messages=[{"role": "user", "content": _sentence(self.rng, 3, 30)}]
        ) as s:
            return "".join(s.text_stream)

    def embeddings(self) -> object:
        return self.openai.embeddings.create(
            model="text-embedding-3-small", input=[_sentence(self.rng, 2, 12) for _ in range(3)]
        )

    def rate_limited(self) -> object:
        self.fake.push(Reply(status=429))
        try:
            self.openai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "again"}])
        except openai.RateLimitError as exc:
            return exc.status_code
        return None

    def server_error(self) -> object:
        self.fake.push(Reply(status=500))
        try:
            self.anthropic.messages.create(
                model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "fail please"}]
            )
        except anthropic.InternalServerError as exc:
            return exc.status_code
        return None

    def slow_chat(self) -> object:
        self.fake.push(Reply(text=_sentence(self.rng, 20, 80), delay=self.slow_s))
        return self.openai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": _sentence(self.rng, 40, 120)}]
        )

    def close(self) -> None:
        self.openai.close()
        self.anthropic.close()


def run_round(traffic: Traffic, rng: random.Random, calls_per_tenant: int) -> int:
    """One round: each tenant makes ``calls_per_tenant`` calls; returns how many were made."""
    made = 0
    for tenant in TENANTS:
        for _ in range(calls_per_tenant):
            feature = rng.choice(FEATURES)
            with llm.llm_context(tenant_id=tenant, feature=feature, user_id=f"{tenant}-user-{rng.randint(1, 50)}"):
                _, call = traffic.pick()
                call()
                made += 1
    return made


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # `docker stop` sends SIGTERM: leave through `finally`, which flushes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=0, help="rounds to run; 0 runs until stopped")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--calls-per-tenant", type=int, default=3, help="calls each tenant makes per round")
    parser.add_argument("--slow", type=float, default=6.0, help="seconds a slow call takes")
    parser.add_argument(
        "--error-weight",
        type=int,
        default=1,
        help="weight of each failing call in the mix (1: ~7%% of OpenAI, ~14%% of Anthropic calls)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a reproducible mix")
    parser.add_argument(
        "--every-call-once",
        action="store_true",
        help="start with one call of every kind (so every metric and label exists at once)",
    )
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _stop)
    rng = random.Random(args.seed)
    telemetry = llm.setup()  # OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_*, OTEL_INSTRUMENTATION_* from the environment
    made = 0
    try:
        with FakeLLMServer() as server:
            traffic = Traffic(server, rng, args.slow, args.error_weight)
            try:
                if args.every_call_once:
                    for index, (_, _, call) in enumerate(traffic.calls):
                        tenant = TENANTS[index % len(TENANTS)]
                        with llm.llm_context(
                            tenant_id=tenant, feature=FEATURES[index % len(FEATURES)], user_id=f"{tenant}-user-0"
                        ):
                            call()
                            made += 1
                rounds = 0
                while args.iterations == 0 or rounds < args.iterations:
                    made += run_round(traffic, rng, args.calls_per_tenant)
                    rounds += 1
                    print(f"round {rounds}: {made} calls so far", flush=True)
                    if args.iterations == 0 or rounds < args.iterations:
                        time.sleep(args.interval)
            finally:
                traffic.close()
    finally:
        telemetry.shutdown()  # flushes spans, metrics and events still queued
    return 0


if __name__ == "__main__":
    sys.exit(main())
