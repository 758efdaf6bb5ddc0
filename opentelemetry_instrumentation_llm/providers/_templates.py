"""Template readers for the prompt fingerprint: (system instructions, tool definitions) of a call.

Each is an ``Endpoint.parse_template``: it runs on every call, content capture on or off, so it
only *picks* values out of the call's parameters, exactly as the user passed them, and converts
nothing (the core canonicalises and caches). It never iterates anything but a list or tuple, so
a generator of messages is never consumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def chat_messages_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """OpenAI chat completions and the SDKs that share its shape (Groq, Mistral, Ollama, Cohere v2,
    litellm): system messages first in ``messages``, tools in ``tools``."""
    return leading_system_messages(params.get("messages")), params.get("tools")


def responses_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """OpenAI Responses: ``instructions`` and ``tools``."""
    return params.get("instructions"), params.get("tools")


def anthropic_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """Anthropic Messages: ``system`` (a string or text blocks) and ``tools``."""
    return params.get("system"), params.get("tools")


def bedrock_converse_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """Bedrock Converse: ``system`` (a list of ``{"text": ...}``) and ``toolConfig`` (holding ``tools``)."""
    return params.get("system"), params.get("toolConfig")


def google_genai_template(params: dict[str, Any]) -> tuple[Any, Any]:
    """google-genai ``generate_content``: ``config.system_instruction`` and ``config.tools``, the
    config being a ``GenerateContentConfig`` or a dict."""
    config = params.get("config")
    if config is None:
        return None, None
    return _field(config, "system_instruction"), _field(config, "tools")
