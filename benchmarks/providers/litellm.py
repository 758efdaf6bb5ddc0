"""LiteLLM scenarios for bench_providers.py (routed to the OpenAI-compatible fake)."""

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
    import litellm

    request = {
        "model": "openai/gpt-4o",
        "messages": MESSAGES,
        "temperature": 0.7,
        "max_tokens": 256,
        "api_base": f"{base_url}/v1",
        "api_key": "sk-bench",
    }

    def call() -> Any:
        return litellm.completion(**request)

    def stream64() -> None:
        fake.push(Reply(text=TEXT, chunks=64))
        for _ in litellm.completion(stream=True, stream_options={"include_usage": True}, **request):
            pass

    return {"call": call, "stream64": stream64}
