"""Template readers for the prompt fingerprint: (system instructions, tool definitions) of a call.

Each is an ``Endpoint.parse_template``: it runs on every call, content capture on or off, so it
only *picks* values out of the call's parameters, exactly as the user passed them, and converts
nothing (the core canonicalises and caches). It never iterates anything but a list or tuple, so
a generator of messages is never consumed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry_instrumentation_llm._core.fingerprint import TemplateParser

_SYSTEM_ROLES = frozenset({"system", "developer"})


def _field(item: Any, name: str) -> Any:
    if type(item) is dict:  # the common case first: an ABC isinstance check costs more than the rest
        return item.get(name)
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def leading_system_messages(messages: Any) -> Any:
    """The contents of the leading run of system/developer messages: the content itself when there
    is one (a constant string or parts list caches by itself), a tuple when several, else None.

    Only the leading run: a system message further down a conversation is per-request context.
    """
    if type(messages) is not list and type(messages) is not tuple:
        return None
    if not messages or _field(messages[0], "role") not in _SYSTEM_ROLES:
        return None
    if len(messages) == 1 or _field(messages[1], "role") not in _SYSTEM_ROLES:
        return _field(messages[0], "content")  # one system message: by far the most common
    found = []
    for message in messages:
        if _field(message, "role") not in _SYSTEM_ROLES:
            break
        found.append(_field(message, "content"))
    return tuple(found)


ParamReader = Callable[[Any, str], Any]
"""(call parameters, name) -> the value the user gave, None when absent (or an SDK's "not given" sentinel)."""


def plain_param(params: Any, key: str) -> Any:
    """The parameter reader of SDKs without "not given" sentinels."""
    return params.get(key)


def chat_template(param: ParamReader) -> TemplateParser:
    """Chat Completions and the SDKs that share its shape (OpenAI chat, Groq, Mistral, Ollama,
    Cohere v2, litellm): system messages first in ``messages``, tools in ``tools``."""

    def template(params: dict[str, Any]) -> tuple[Any, Any]:
        return leading_system_messages(param(params, "messages")), param(params, "tools")

    return template


def keyed_template(param: ParamReader, system: str, tools: str = "tools") -> TemplateParser:
    """System instructions and tools in two parameters: OpenAI Responses (``instructions``),
    Anthropic Messages (``system``)."""

    def template(params: dict[str, Any]) -> tuple[Any, Any]:
        return param(params, system), param(params, tools)

    return template


def google_genai_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """google-genai ``generate_content``: ``config.system_instruction`` and ``config.tools``, the
    config being a ``GenerateContentConfig`` or a dict."""
    config = params.get("config")
    if config is None:
        return None, None
    system = _field(config, "system_instruction")
    if system is None and type(config) is dict:
        system = config.get("systemInstruction")
    return system, _field(config, "tools")
