"""Groq scenarios for bench_providers.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_llm.testing import FakeLLM, Reply

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a haiku about observability and tracing."},
]
TEXT = " ".join(f"w{i}" for i in range(64))


def scenarios(base_url: str, fake: FakeLLM) -> dict[str, Callable[[], Any]]:
    import groq

    client = groq.Groq(api_key="gsk-bench", base_url=base_url, max_retries=0)
    request = {"model": "llama-3.3-70b-versatile", "messages": MESSAGES, "temperature": 0.7, "max_tokens": 256}

    def call() -> Any:
        return client.chat.completions.create(**request)

    def stream64() -> None:
        fake.push(Reply(text=TEXT, chunks=64))
        for _ in client.chat.completions.create(stream=True, **request):
            pass

    return {"call": call, "stream64": stream64}
