"""OpenTelemetry instrumentation for LLM client SDKs, following the GenAI semantic conventions.

Zero code: ``opentelemetry-instrument python app.py`` picks up our ``llm_<sdk>`` entry points.
One call: ``opentelemetry_instrumentation_llm.instrument()`` instruments every supported SDK that
is installed, with the global providers or the ones you pass.
"""

from __future__ import annotations

from opentelemetry_instrumentation_llm import cost, request_context, spend
from opentelemetry_instrumentation_llm.agents import agent, tool, workflow
from opentelemetry_instrumentation_llm.config import ConfigurationError, ContentCapture
from opentelemetry_instrumentation_llm.cost import register_prices
from opentelemetry_instrumentation_llm.feedback import record_feedback
from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor
from opentelemetry_instrumentation_llm.instrumentor import (
    AnthropicInstrumentor,
    BedrockInstrumentor,
    CohereInstrumentor,
    GoogleGenAIInstrumentor,
    GroqInstrumentor,
    LiteLLMInstrumentor,
    LLMInstrumentor,
    MistralAIInstrumentor,
    OllamaInstrumentor,
    OpenAIInstrumentor,
    instrument,
    uninstrument,
)
from opentelemetry_instrumentation_llm.integrations import (
    LangChainInstrumentor,
    LlamaIndexInstrumentor,
    MCPInstrumentor,
    OpenAIAgentsInstrumentor,
)
from opentelemetry_instrumentation_llm.pipeline import LLMTelemetry, setup
from opentelemetry_instrumentation_llm.request_context import bind_context, llm_context
from opentelemetry_instrumentation_llm.version import __version__

__all__ = [
    "AnthropicInstrumentor",
    "BedrockInstrumentor",
    "CohereInstrumentor",
    "ConfigurationError",
    "ContentCapture",
    "GPUInstrumentor",
    "GoogleGenAIInstrumentor",
    "GroqInstrumentor",
    "LLMInstrumentor",
    "LLMTelemetry",
    "LangChainInstrumentor",
    "LiteLLMInstrumentor",
    "LlamaIndexInstrumentor",
    "MCPInstrumentor",
    "MistralAIInstrumentor",
    "OllamaInstrumentor",
    "OpenAIAgentsInstrumentor",
    "OpenAIInstrumentor",
    "__version__",
    "agent",
    "bind_context",
    "cost",
    "instrument",
    "llm_context",
    "record_feedback",
    "register_prices",
    "request_context",
    "setup",
    "spend",
    "tool",
    "uninstrument",
    "workflow",
]
