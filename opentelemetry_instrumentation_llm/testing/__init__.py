"""Test helpers that ship with the package: a fake LLM provider speaking the real wire formats.

Use it to test your own instrumented application without an API key or network::

    from opentelemetry_instrumentation_llm.testing import FakeLLMServer, Reply

    with FakeLLMServer() as server:
        client = openai.OpenAI(api_key="test", base_url=server.openai_base_url)
        server.fake.push(Reply(text="hello"))
"""

from opentelemetry_instrumentation_llm.testing.fake_llm import CUT, Exchange, FakeLLM
from opentelemetry_instrumentation_llm.testing.replies import Reply
from opentelemetry_instrumentation_llm.testing.server import FakeLLMServer

__all__ = ["CUT", "Exchange", "FakeLLM", "FakeLLMServer", "Reply"]
