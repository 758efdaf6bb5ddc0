"""The conventions' message, part and tool-definition shapes, described once for every adapter.

These are the JSON schemas of ``gen_ai.input.messages``, ``gen_ai.output.messages``,
``gen_ai.system_instructions`` and ``gen_ai.tool.definitions`` (semantic-conventions-genai,
``model/gen-ai/gen-ai-*.json``) as ``TypedDict``s, so that mypy checks the shape each adapter
builds. They are plain dicts at run time: building one costs what a dict literal costs, and they
serialise as they are. Adapters build them only when content capture is on.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from typing_extensions import NotRequired

Modality = Literal["image", "video", "audio", "document"]


class TextPart(TypedDict):
    type: Literal["text"]
    content: str


class ReasoningPart(TypedDict):
    type: Literal["reasoning"]
    content: str


class ToolCallPart(TypedDict):
    type: Literal["tool_call"]
    name: str
    id: NotRequired[str | None]
    arguments: NotRequired[Any]


class ToolCallResponsePart(TypedDict):
    type: Literal["tool_call_response"]
    response: Any
    id: NotRequired[str | None]


class BlobPart(TypedDict):
    type: Literal["blob"]
    modality: str
    content: Any  # base64 text, or bytes (encoded as base64 when serialised)
    mime_type: NotRequired[str]


class FilePart(TypedDict):
    type: Literal["file"]
    modality: str
    file_id: str
    mime_type: NotRequired[str]


class UriPart(TypedDict):
    type: Literal["uri"]
    modality: str
    uri: str
    mime_type: NotRequired[str]


class ServerToolCallPart(TypedDict):
    type: Literal["server_tool_call"]
    name: str
    server_tool_call: dict[str, Any]
    id: NotRequired[str | None]


class ServerToolCallResponsePart(TypedDict):
    type: Literal["server_tool_call_response"]
    server_tool_call_response: dict[str, Any]
    id: NotRequired[str | None]


class GenericPart(TypedDict):
    """A part the conventions do not name (``type`` is the provider's own part type)."""

    type: str
    content: NotRequired[Any]


MessagePart = (
    TextPart
    | ReasoningPart
    | ToolCallPart
    | ToolCallResponsePart
    | BlobPart
    | FilePart
    | UriPart
    | ServerToolCallPart
    | ServerToolCallResponsePart
    | GenericPart
)


class ChatMessage(TypedDict):
    """One input message: ``system``, ``user``, ``assistant``, ``tool`` or a provider's own role."""

    role: str
    parts: list[MessagePart]
    name: NotRequired[str]


class OutputMessage(TypedDict):
    """One choice / candidate, with the conventions' finish reason (``error`` when none arrived)."""

    role: str
    parts: list[MessagePart]
    finish_reason: str
    name: NotRequired[str]


class ToolDefinition(TypedDict):
    """``FunctionToolDefinition`` (with description and parameters) or ``GenericToolDefinition``."""

    type: str
    name: str
    description: NotRequired[str | None]
    parameters: NotRequired[Any]


def text_part(text: str) -> TextPart:
    return {"type": "text", "content": text}


def data_url_part(url: str, modality: str) -> BlobPart | UriPart:
    """A ``data:`` URL becomes a blob part; any other URL a uri part (as the conventions ask)."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[5:].split(";")[0] or None
        blob: BlobPart = {"type": "blob", "modality": modality, "content": data}
        if mime:
            blob["mime_type"] = mime
        return blob
    return {"type": "uri", "modality": modality, "uri": url}
