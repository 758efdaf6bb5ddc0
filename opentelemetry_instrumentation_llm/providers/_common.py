"""Small helpers shared by provider adapters (pure functions, no telemetry)."""

from __future__ import annotations

import json
import types
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm._core.parts import data_url_part as data_url_part, text_part as text_part
from opentelemetry_instrumentation_llm._core.records import Attributes, RequestInfo
from opentelemetry_instrumentation_llm._core.spec import Endpoint, ParamsBinder, ResultKind

# (parameter, attribute) pairs that most APIs name alike; adapters add their own to these.
SAMPLING_PARAMS: tuple[tuple[str, str], ...] = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", sc.GEN_AI_REQUEST_SEED),
)

_DEFAULT_PORTS = {"https": 443, "http": 80, "wss": 443, "ws": 80}

# Small identity cache: URL objects are immutable in the SDKs we read, and reading host/port
# off them costs more than a dict lookup. Bounded so a process that builds clients forever
# (one per request, say) cannot grow it.
_SERVER_CACHE: dict[int, tuple[Any, str | None, int | None]] = {}
_SERVER_CACHE_MAX = 128


def server_of(url: Any) -> tuple[str | None, int | None]:
    """(server.address, server.port) from an httpx/httpx2-style URL object or a URL string.

    Read by attribute, never by isinstance: openai 3.x and anthropic 2.x use httpx2, whose URL
    class is not httpx's.
    """
    if url is None:
        return None, None
    key = id(url)
    hit = _SERVER_CACHE.get(key)
    if hit is not None and hit[0] is url:
        return hit[1], hit[2]
    host: Any
    port: Any
    scheme: Any
    if isinstance(url, str):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        host, port, scheme = parts.hostname, parts.port, parts.scheme
    else:
        host, port, scheme = getattr(url, "host", None), getattr(url, "port", None), getattr(url, "scheme", None)
    if host and port is None:
        port = _DEFAULT_PORTS.get(str(scheme).lower())
    host = str(host) if host else None
    if len(_SERVER_CACHE) >= _SERVER_CACHE_MAX:
        _SERVER_CACHE.clear()
    _SERVER_CACHE[key] = (url, host, port)
    return host, port


def sdk_client(resource: Any) -> Any:
    """The client object behind an SDK resource (``client.chat.completions`` -> ``client``)."""
    return getattr(resource, "_client", None)


def client_server(client: Any) -> tuple[str | None, int | None]:
    """(server.address, server.port) from a Stainless-style client's base URL."""
    if client is None:
        return None, None
    url = getattr(client, "_base_url", None)
    if url is None:
        url = getattr(client, "base_url", None)
    return server_of(url)


class ClientFactsCache:
    """Per-client facts (provider name, server address and port), computed once per client.

    Keyed by the client's identity and re-checked against the client's current base URL object,
    so a client whose ``base_url`` is reassigned gets fresh facts. Clients are held weakly (a
    cached client must not keep its connection pool alive) and the cache is bounded, so an
    application that builds a client per request cannot grow it.
    """

    def __init__(self, size: int = 256) -> None:
        self._entries: dict[int, tuple[Any, Any, Any]] = {}
        self._size = size

    def __call__(self, client: Any, compute: Any) -> Any:
        url = _base_url_of(client)
        entry = self._entries.get(id(client))
        if entry is not None and entry[0]() is client and entry[1] is url:
            return entry[2]
        facts = compute(client)
        try:
            ref = weakref.ref(client)
        except TypeError:  # not weak-referenceable: do not cache
            return facts
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(client)] = (ref, url, facts)
        return facts


def _base_url_of(client: Any) -> Any:
    """The client's base URL object, read where the SDKs keep it before asking the client: stainless
    SDKs hold ``_base_url``; ``openai`` 3.x holds ``_configured_base_url`` behind a ``_base_url``
    property chain that costs about 1 µs a call (it imports on every read)."""
    values = getattr(client, "__dict__", None)
    if values is not None:
        url = values.get("_base_url") or values.get("_configured_base_url")
        if url is not None:
            return url
    return getattr(client, "_base_url", None)


class ProviderByClass:
    """Maps an SDK client class to ``gen_ai.provider.name`` by the names in its MRO, cached per class.

    Matching names rather than importing the classes keeps optional SDK extras (Bedrock, Vertex,
    Azure clients) out of the import path.
    """

    def __init__(self, rules: dict[str, str], default: str) -> None:
        self._rules = rules
        self._default = default
        self._cache: dict[type, str] = {}

    def __call__(self, client: Any) -> str:
        cls = type(client)
        provider = self._cache.get(cls)
        if provider is None:
            provider = self._default
            for klass in cls.__mro__:
                if klass.__name__ in self._rules:
                    provider = self._rules[klass.__name__]
                    break
            self._cache[cls] = provider
        return provider


class FinishReasons:
    """Maps a provider's finish/stop reasons to the conventions' values from one table.

    Unknown values pass through unchanged (as text); None, empty and non-string values read as
    None unless ``coerce`` is set, in which case any value is read as its ``str()`` (SDK enums).
    """

    __slots__ = ("_coerce", "table")

    def __init__(self, table: dict[str, str], *, coerce: bool = False) -> None:
        self.table = table
        self._coerce = coerce

    def __call__(self, reason: Any) -> str | None:
        if reason is None:
            return None
        text: str
        if isinstance(reason, str):
            text = reason
        elif self._coerce:
            text = str(getattr(reason, "value", reason))
        else:
            return None
        if not text:
            return None
        return self.table.get(text, text)


class Arguments:
    """Reads call parameters the user actually gave, with one SDK's "not given" sentinels passed in.

    SDK helpers fill omitted parameters with sentinel objects (``NOT_GIVEN``, ``omit``, ``UNSET``);
    each adapter names its SDK's sentinel types explicitly, so nothing depends on which adapters
    happen to be imported.

    ``param`` is the hot-path reader of a keyword-argument dict: a plain function (calling it costs
    what calling a module function costs, a third of an instance ``__call__``).
    """

    __slots__ = ("param", "sentinels")

    def __init__(self, *sentinels: type) -> None:
        self.sentinels = frozenset(sentinels)
        self.param = _param_reader(self.sentinels)

    def __call__(self, params: Any, key: str) -> Any:
        """``params[key]`` (or the attribute of an SDK model), None when absent or a sentinel."""
        value = params.get(key) if isinstance(params, dict) else getattr(params, key, None)
        if value is None or type(value) in self.sentinels:
            return None
        return value

    def given(self, value: Any) -> Any:
        """``value`` unless it is None or a sentinel."""
        if value is None or type(value) in self.sentinels:
            return None
        return value

    def copy_given(self, params: dict[str, Any], pairs: tuple[tuple[str, str], ...], attrs: Attributes) -> None:
        """Copy each given ``params[key]`` to ``attrs[attribute]`` for the ``(key, attribute)`` pairs."""
        sentinels = self.sentinels
        for key, attribute in pairs:
            value = params.get(key)
            if value is not None and type(value) not in sentinels:
                attrs[attribute] = value


def _param_reader(sentinels: frozenset[type]) -> Callable[[dict[str, Any], str], Any]:
    def param(params: dict[str, Any], key: str) -> Any:
        """``params[key]``, None when absent or a sentinel."""
        value = params.get(key)
        if value is None or type(value) in sentinels:
            return None
        return value

    return param


def field(obj: Any, name: str) -> Any:
    """A field of a dict (request params) or of an SDK model object (responses)."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def set_if_not_none(attrs: Attributes, key: str, value: Any) -> None:
    if value is not None:
        attrs[key] = value


put = set_if_not_none  # the former name, until every adapter uses set_if_not_none


def request_info(
    operation: str,
    provider: str,
    model: Any,
    server: tuple[str | None, int | None],
    stream: bool,
    attributes: Attributes,
) -> RequestInfo:
    """The :class:`RequestInfo` of one call; ``model`` is recorded as text when given."""
    return RequestInfo(
        operation, provider, str(model) if model is not None else None, server[0], server[1], stream, attributes
    )


Server = tuple[str | None, int | None]


def request_parser(
    operation: str,
    provider: str,
    server: Callable[[Any, dict[str, Any]], Server],
    attributes: Callable[[dict[str, Any]], Attributes],
    param: Callable[[dict[str, Any], str], Any],
    stream: bool | None = None,
) -> Callable[[Any, dict[str, Any]], RequestInfo]:
    """A ``parse_request`` for an SDK whose provider is fixed: the model and (unless the method
    itself says, ``stream``) the stream flag read from the call's parameters with ``param``,
    ``server(resource, params)`` and ``attributes(params)``."""

    def parse(resource: Any, params: dict[str, Any]) -> RequestInfo:
        model = param(params, "model")
        address, port = server(resource, params)
        streaming = bool(param(params, "stream")) if stream is None else stream
        model_name = str(model) if model is not None else None
        return RequestInfo(operation, provider, model_name, address, port, streaming, attributes(params))

    return parse


def stop_sequences(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        return [str(v) for v in value]
    except TypeError:
        return None


def maybe_json(value: Any) -> Any:
    """Tool-call arguments arrive as JSON text; record the object when it parses, else the text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def positional_binder(*names: str) -> ParamsBinder:
    """Positional arguments by name (``chat(model, messages)``), merged with the keywords."""

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if not args:
            return kwargs
        bound = dict(zip(names, args, strict=False))
        bound.update(kwargs)
        return bound

    return bind


def endpoint_pair(module: str, sync_target: str, async_target: str, **parsers: Any) -> tuple[Endpoint, Endpoint]:
    """The sync and async methods of one SDK call (``Completions.create`` / ``AsyncCompletions.create``)."""
    return (
        Endpoint(module=module, target=sync_target, is_async=False, **parsers),
        Endpoint(module=module, target=async_target, is_async=True, **parsers),
    )


def status_error_type(catch_all: str) -> Callable[[BaseException], str]:
    """An ``error_type``: the HTTP status code for the SDK's catch-all error class named ``catch_all``
    (its name says nothing about the failure), the exception's class name otherwise."""

    def error_type(exc: BaseException) -> str:
        if type(exc).__name__ == catch_all:
            status = getattr(exc, "status_code", None)
            if isinstance(status, int) and status >= 400:
                return str(status)
        return type(exc).__name__

    return error_type


def type_classifier(*rules: tuple[type, ResultKind]) -> Any:
    """A ``classify`` by the result's type: the first ``(base class, kind)`` rule that matches, else
    ``VALUE``; decided once per result type, then a dict lookup."""
    kinds: dict[type, ResultKind] = {}

    def classify(result: Any) -> ResultKind:
        cls = type(result)
        kind = kinds.get(cls)
        if kind is None:
            kind = next((k for base, k in rules if issubclass(cls, base)), ResultKind.VALUE)
            kinds[cls] = kind
        return kind

    return classify


def stainless_classifier(
    stream: type, async_stream: type, raw: type, async_raw: type, legacy_raw: type | None = None
) -> Any:
    """For the SDKs generated by Stainless (openai, anthropic, groq): their stream classes, their raw
    responses (``with_raw_response`` / ``with_streaming_response``), or a parsed value."""
    legacy = ((legacy_raw, ResultKind.RAW),) if legacy_raw is not None else ()
    return type_classifier(
        (stream, ResultKind.STREAM),
        (async_stream, ResultKind.ASYNC_STREAM),
        *legacy,
        (async_raw, ResultKind.ASYNC_RAW),
        (raw, ResultKind.RAW_CLOSABLE),
    )


# SDKs whose stream methods are generator functions (google-genai, ollama).
generator_classifier = type_classifier(
    (types.GeneratorType, ResultKind.STREAM), (types.AsyncGeneratorType, ResultKind.ASYNC_STREAM)
)
