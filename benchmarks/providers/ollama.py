"""Ollama scenarios for bench_providers.py."""

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
    import ollama

    client = ollama.Client(host=base_url)
    options = {"temperature": 0.7, "num_predict": 256}

    def call() -> Any:
        return client.chat(model="llama3.2", messages=MESSAGES, options=options)

    def stream64() -> None:
        fake.push(Reply(text=TEXT, chunks=64))
        for _ in client.chat(model="llama3.2", messages=MESSAGES, options=options, stream=True):
            pass

    return {"call": call, "stream64": stream64}
