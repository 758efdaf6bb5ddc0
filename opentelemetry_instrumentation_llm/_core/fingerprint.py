"""Prompt fingerprints: which prompt *template* a call was built from, without recording the prompt.

A fingerprint is a short hash of a call's system instructions and tool definitions (names,
descriptions, parameter schemas): the parts of a prompt that a deploy changes and a user's
message does not. Two calls that differ only in the conversation get the same fingerprint; a
changed system prompt or tool schema gives a new one. It is computed whether or not content is
captured, and cannot be reversed into the content; when redaction is on the layer above hands in
a key and the hash is an HMAC, so a guessable prompt cannot be confirmed by hashing guesses.

Adapters give the raw SDK values through ``Endpoint.parse_template`` (no conversion); this module
brings them to one canonical form (JSON with sorted keys; SDK objects through ``model_dump``), so
the same template gives the same fingerprint in every process and from every SDK: an OpenAI
``{"type": "function", "function": {...}}`` tool, a Responses ``{"type": "function", "name": ...}``
tool and an Anthropic ``{"name": ..., "input_schema": ...}`` tool are the same tool.

Canonical JSON of a 2 KB prompt and ten tools costs tens of microseconds, so results are cached:
system instructions by content (strings hash once per string object), tool lists and other
objects by identity (checked against a snapshot of their items, so a list that gains or loses a
tool is seen), and a new list or dict of plain data by its ``marshal`` serialisation (a literal
rebuilt on every call costs some microseconds, not tens). A tool *dict* edited in place inside
the same list is not seen; build a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import marshal
from collections.abc import Callable, Mapping
from typing import Any

LLM_PROMPT_FINGERPRINT = "llm.prompt.fingerprint"
"""Span and metric attribute: the fingerprint, 16 hex digits. Ours (``llm.*``), not the conventions'."""

TemplateParser = Callable[[dict[str, Any]], "tuple[Any, Any]"]
"""(call parameters) -> (system instructions, tool definitions) as the SDK was given them, either None."""

_SCHEMA_KEYS = ("parameters", "input_schema", "inputSchema", "parameters_json_schema", "json_schema")
_NOTHING = b""


def _plain(value: Any) -> Any:
    """``value`` as JSON-able plain data: SDK (pydantic) objects dumped, tuples as lists."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _plain(dump(mode="json", exclude_none=True))
    if isinstance(value, (bytes, bytearray)):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if callable(value):  # a Python function given as a tool (ollama, google-genai): its name and docstring
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
        return {"callable": name, "doc": getattr(value, "__doc__", None)}
    if type(value).__repr__ is object.__repr__:  # type: ignore[comparison-overlap]
        return type(value).__qualname__  # the default repr holds an address: not the same in another process
    return repr(value)


def _texts(value: Any, out: list[Any]) -> None:
    """The text pieces of system instructions, whatever their shape: a string, message dicts with
    ``content`` (or Gemini's ``parts``), text parts (``cache_control`` and the like ignored)."""
    if value is None:
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        if "content" in value:
            _texts(value["content"], out)
        elif "parts" in value:
            _texts(value["parts"], out)
        elif isinstance(value.get("text"), str):
            out.append(value["text"])
        else:
            out.append(_plain(value))  # a non-text part: its whole canonical form
    elif isinstance(value, (list, tuple)):
        for item in value:
            _texts(item, out)
    else:
        _texts(_plain(value), out)


def _tool(tool: Any, out: list[Any]) -> None:
    """One tool in the form every SDK shares: name, description, parameter schema."""
    tool = _plain(tool)
    if not isinstance(tool, dict):
        out.append(tool)
        return
    inner = tool.get("function") or tool.get("toolSpec")
    if isinstance(inner, dict):
        tool = inner
    name = tool.get("name")
    if not isinstance(name, str):
        declarations = tool.get("function_declarations") or tool.get("functionDeclarations")
        if isinstance(declarations, list):
            for declaration in declarations:
                _tool(declaration, out)
        else:
            out.append(tool)  # a built-in tool ({"type": "web_search"}): all of it
        return
    schema = next((tool[key] for key in _SCHEMA_KEYS if tool.get(key) is not None), None)
    if isinstance(schema, dict) and len(schema) == 1 and "json" in schema:
        schema = schema["json"]  # Bedrock's {"inputSchema": {"json": {...}}}
    out.append({"name": name, "description": tool.get("description") or "", "parameters": schema})


def _canonical(tag: bytes, value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(tag + text.encode("utf-8", "surrogatepass")).digest()


def system_digest(system: Any) -> bytes:
    texts: list[Any] = []
    _texts(system, texts)
    return _canonical(b"system\0", texts) if any(texts) else _NOTHING


def tools_digest(tools: Any) -> bytes:
    if isinstance(tools, Mapping) and isinstance(tools.get("tools"), list):
        tools = tools["tools"]  # a tool configuration holding the list (Bedrock's toolConfig)
    found: list[Any] = []
    for tool in tools if isinstance(tools, (list, tuple)) else (tools,):
        _tool(tool, found)
    return _canonical(b"tools\0", found) if found else _NOTHING


_RECENT_LISTS = 4  # lists of plain data answered by equality: an agent's tools, or a few agents' in turn


class _PartCache:
    """Digests of one template part: by content for strings (and tuples of them), by identity for
    anything else (the object is held, so its id stays its own; lists are checked against a
    snapshot of their items). Bounded: emptied when full."""

    __slots__ = ("_by_content", "_by_identity", "_digest", "_max", "_recent")

    def __init__(self, digest: Callable[[Any], bytes], max_entries: int) -> None:
        self._digest = digest
        self._max = max_entries
        self._by_content: dict[Any, bytes] = {}
        self._by_identity: dict[int, tuple[Any, Any, bytes]] = {}
        # The last few lists of plain data seen, newest first: our own copies (never handed out, so
        # never mutated) and their digests. A caller that rebuilds the same list for every call (the
        # Agents SDK does, tools and schemas, one list per agent) is answered by equality tests in C
        # before any serialisation. (Equality is looser than the canonical form in one way:
        # True == 1 == 1.0; a list differing from a recent one only so gets that one's fingerprint.)
        self._recent: list[tuple[list[Any], bytes]] = []

    def digest(self, value: Any) -> bytes:
        if value is None:
            return _NOTHING
        kind = type(value)
        if kind is str or (kind is tuple and all(type(v) is str for v in value)):
            found = self._by_content.get(value)
            if found is None:
                found = self._store(self._by_content, value, self._digest(value))
            return found
        if kind is list:
            for copy, digest in self._recent:
                if value == copy:
                    return digest
        snapshot = tuple(value) if kind is list else None
        entry = self._by_identity.get(id(value))
        if entry is not None and entry[0] is value and entry[1] == snapshot:
            return entry[2]
        # A new object: the same content rebuilt by the caller (a literal in the calling function)
        # is found by its serialisation in C, some microseconds instead of the canonical form's tens.
        try:
            key = marshal.dumps(value)
        except ValueError:  # SDK objects: no content key, identity only
            key = None
        found = self._by_content.get(key) if key is not None else None
        if found is None:
            found = self._digest(value)
            if key is not None:
                self._store(self._by_content, key, found)
            self._store(self._by_identity, id(value), (value, snapshot, found))
        if kind is list and key is not None:
            self._recent = [(marshal.loads(key), found), *self._recent[: _RECENT_LISTS - 1]]
        return found

    def _store(self, cache: dict[Any, Any], key: Any, entry: Any) -> bytes:
        if len(cache) >= self._max:
            cache.clear()
        cache[key] = entry
        return entry if isinstance(entry, bytes) else entry[2]  # type: ignore[no-any-return]


class PromptFingerprints:
    """Computes (and caches) the fingerprint of a call's template. One per process is enough.

    ``key``: when given, the fingerprint is an HMAC-SHA256 under it (redaction on); processes that
    must agree on fingerprints share the key.
    """

    __slots__ = ("_final", "_key", "_max", "_system", "_tools")

    def __init__(self, key: bytes | None = None, max_entries: int = 512) -> None:
        self._key = key
        self._max = max_entries
        self._system = _PartCache(system_digest, max_entries)
        self._tools = _PartCache(tools_digest, max_entries)
        self._final: dict[tuple[bytes, bytes], str] = {}

    @property
    def keyed(self) -> bool:
        return self._key is not None

    def of(self, system: Any, tools: Any) -> str | None:
        """The fingerprint of a template (16 hex digits), or None when it has neither part."""
        # The common cases inline (a constant system string, a constant tool list): every call pays this.
        system_digest = self._system._by_content.get(system) if type(system) is str else None
        if system_digest is None:
            system_digest = self._system.digest(system)
        tools_digest = None
        if type(tools) is list:
            entry = self._tools._by_identity.get(id(tools))
            if entry is not None and entry[0] is tools and entry[1] == tuple(tools):
                tools_digest = entry[2]
        if tools_digest is None:
            tools_digest = self._tools.digest(tools)
        parts = (system_digest, tools_digest)
        found = self._final.get(parts)
        if found is None:
            if parts == (_NOTHING, _NOTHING):
                return None
            found = self._combine(parts)
        return found

    def _combine(self, parts: tuple[bytes, bytes]) -> str:
        message = parts[0] + b"|" + parts[1]
        if self._key is not None:
            digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        else:
            digest = hashlib.sha256(message).hexdigest()
        if len(self._final) >= self._max:
            self._final.clear()
        self._final[parts] = found = digest[:16]
        return found
