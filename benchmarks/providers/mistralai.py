"""Mistral AI scenarios for bench_providers.py (the fake answers Mistral under ``/mistral``)."""

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
    from mistralai.client import Mistral

    client = Mistral(api_key="mistral-bench", server_url=f"{base_url.rstrip('/')}/mistral")
    request = {"model": "mistral-small-latest", "messages": MESSAGES, "temperature": 0.7, "max_tokens": 256}

    def call() -> Any:
        return client.chat.complete(**request)

    def stream64() -> None:
        fake.push(Reply(text=TEXT, chunks=64))
        for _ in client.chat.stream(**request):
            pass

    return {"call": call, "stream64": stream64}
