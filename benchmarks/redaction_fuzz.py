"""Redaction fuzz: thousands of generated secrets, through the real export path, searched at the far end.

Run:  python benchmarks/redaction_fuzz.py            (10,000 secret cases; about a minute)
      python benchmarks/redaction_fuzz.py --quick    (600 cases; a few seconds)
      python benchmarks/redaction_fuzz.py --cases 50000 --seed 7

The pipeline is what users get from ``setup()`` with ``OTEL_INSTRUMENTATION_LLM_REDACT=all``:
batch processors, the redacting exporters, OTLP/gRPC, into a real collector (``rotel``), which
forwards to an OTLP sink in this process. Every case (see ``redaction_cases.py``) is one secret of
one detector's kind in one disguise, placed on a span attribute, a span event, a log-record body
or a log-record attribute; one case in ten instead goes through the real OpenAI SDK against the
fake provider, with content capture on: the secret in a multi-part user message and in a reply
streamed in chunks cut inside the secret. Everything the sink received for a case is searched
for the secret in every spelling the case wrote it in. A second corpus of ordinary text with no
secrets measures false positives: generated chat-like text, and the docstrings of Python's
standard library (real prose; some of it holds real e-mail and IP addresses, which are listed).

Exit status 1 when any case leaked or was never received.
"""

from __future__ import annotations

import argparse
import collections
import json
import pydoc
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.e2e.collector

from redaction_cases import DISGUISES, GENERATORS, Case, leaked, make_case, ordinary_text

from opentelemetry_instrumentation_llm import setup
from opentelemetry_instrumentation_llm.processors import ProcessorSettings
from opentelemetry_instrumentation_llm.testing import FakeLLMServer, Reply
from tests.e2e.collector import OTLPSink, Rotel, any_value, wait_until

PLACES = ("span_attribute", "span_event", "log_body", "log_attribute")
CASE_KEY = "fuzz.case"
SDK_SHARE = 10  # one case in SDK_SHARE goes through the OpenAI SDK
FLUSH_EVERY = 1000  # the generator outruns the exporter; flush before the batch queue (2048) fills


@dataclass
class Outcome:
    cases: int = 0
    leaks: list[tuple[Case, str]] = field(default_factory=list)
    missing: list[Case] = field(default_factory=list)
    by_detector: collections.Counter[str] = field(default_factory=collections.Counter)
    by_disguise: collections.Counter[str] = field(default_factory=collections.Counter)
    by_place: collections.Counter[str] = field(default_factory=collections.Counter)


def _strings(value: Any) -> list[str]:
    """Every string in an exported value, and in any JSON text inside it, decoded (at any depth)."""
    if isinstance(value, str):
        found = [value]
        if value[:1] in ("[", "{"):
            try:
                found += _strings(json.loads(value))
            except ValueError:
                pass
        return found
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _text(value: Any) -> str:
    return "\n".join(_strings(value))


def _emit_direct(telemetry: Any, case: Case, place: str, text: str) -> None:
    tracer = telemetry.tracer_provider.get_tracer("redaction-fuzz")
    logger = telemetry.logger_provider.get_logger("redaction-fuzz")
    with tracer.start_as_current_span(f"fuzz {case.index}", attributes={CASE_KEY: case.index}) as span:
        if place == "span_attribute":
            span.set_attribute("gen_ai.input.messages", text)
        elif place == "span_event":
            span.add_event("gen_ai.client.inference.operation.details", {"gen_ai.output.messages": text})
        elif place == "log_body":
            logger.emit(event_name="fuzz", body={"content": text, "nested": [text]}, attributes={CASE_KEY: case.index})
        else:
            logger.emit(event_name="fuzz", attributes={CASE_KEY: case.index, "gen_ai.input.messages": text})


def _call_sdk(client: Any, server: FakeLLMServer, case: Case, rng: random.Random) -> None:
    """The secret in a multi-part user message and in a streamed reply cut inside it."""
    server.fake.push(Reply(text=case.carrier, chunks=max(2, len(case.carrier) // rng.randint(3, 12))))
    parts = [{"type": "text", "text": "context before"}, {"type": "text", "text": case.carrier}]
    stream = client.chat.completions.create(
        model=f"fuzz-{case.index}", messages=[{"role": "user", "content": parts}], stream=True
    )
    for _ in stream:
        pass


def _collect(sink: OTLPSink) -> tuple[dict[int, list[str]], int]:
    """Case index -> every string exported for it (spans by attribute or model name, logs by trace)."""
    found: dict[int, list[str]] = collections.defaultdict(list)
    by_trace: dict[bytes, int] = {}
    for span in sink.spans():
        index = span.attributes.get(CASE_KEY)
        if index is None and span.name.startswith("chat fuzz-"):
            index = int(span.name.rsplit("-", 1)[1])
        if index is None:
            continue
        by_trace[span.trace_id] = int(index)
        found[int(index)].append(_text(span.attributes))
    for request in list(sink.trace_requests):  # span events are not in ReceivedSpan
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    for event in span.events:
                        if span.trace_id in by_trace:
                            found[by_trace[span.trace_id]].append(
                                _text({kv.key: any_value(kv.value) for kv in event.attributes})
                            )
    unattributed = 0
    for request in list(sink.log_requests):
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    attrs = {kv.key: any_value(kv.value) for kv in record.attributes}
                    index = attrs.get(CASE_KEY, by_trace.get(record.trace_id))
                    if index is None:
                        unattributed += 1
                        continue
                    found[int(index)].append(_text(attrs) + _text(any_value(record.body)))
    return found, unattributed


def run_secret_cases(
    count: int, seed: int, endpoint: str, sink: OTLPSink, timeout: float, redact: tuple[str, ...] = ("all",)
) -> Outcome:
    import openai

    rng = random.Random(seed)
    outcome = Outcome()
    sink.clear()
    telemetry = setup(
        "redaction-fuzz",
        endpoint=endpoint,
        processors=ProcessorSettings(redact=redact),
        gpu=False,
        set_global=False,
        capture_content=True,
    )
    cases: dict[int, Case] = {}
    try:
        with FakeLLMServer() as server:
            client = openai.OpenAI(base_url=server.openai_base_url, api_key="test-key", max_retries=0)
            for index in range(count):
                detector = list(GENERATORS)[index % len(GENERATORS)]  # every detector equally
                case = make_case(index, rng, detector=detector, disguise=DISGUISES[(index // 16) % len(DISGUISES)])
                cases[index] = case
                if index % FLUSH_EVERY == FLUSH_EVERY - 1:
                    telemetry.force_flush()
                if index % SDK_SHARE == SDK_SHARE - 1:
                    _call_sdk(client, server, case, rng)
                    place = "sdk_stream"
                else:
                    place = PLACES[rng.randrange(len(PLACES))]
                    _emit_direct(telemetry, case, place, case.carrier)
                outcome.by_place[place] += 1
            client.close()
        telemetry.force_flush()
        logs = outcome.by_place["log_body"] + outcome.by_place["log_attribute"] + outcome.by_place["sdk_stream"]
        wait_until(
            lambda: _received_cases(sink) >= count and len(sink.logs()) >= logs, timeout, "every case at the sink"
        )
    finally:
        telemetry.shutdown()
    found, unattributed = _collect(sink)
    if unattributed:
        print(f"note: {unattributed} log records could not be attributed to a case")
    for index, case in cases.items():
        outcome.cases += 1
        outcome.by_detector[case.detector] += 1
        outcome.by_disguise[case.disguise] += 1
        exported = "\n".join(found.get(index, ()))
        if not exported:
            outcome.missing.append(case)
        elif leaked(case, exported):
            outcome.leaks.append((case, exported))
    return outcome


def _received_cases(sink: OTLPSink) -> int:
    names = 0
    for span in sink.spans():
        if CASE_KEY in span.attributes or span.name.startswith("chat fuzz-"):
            names += 1
    return names


def stdlib_paragraphs(limit: int) -> list[str]:
    """Paragraphs of the standard library's docstrings: real prose, code and numbers."""
    import importlib

    found: list[str] = []
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in ("antigravity", "this", "idlelib", "turtledemo", "tkinter", "turtle"):
            continue
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - platform-specific modules
            continue
        for obj in [module, *vars(module).values()]:
            doc = pydoc.getdoc(obj) if callable(obj) or obj is module else ""
            found.extend(p.strip() for p in doc.split("\n\n") if len(p.strip()) >= 40)
        if len(found) >= limit:
            break
    return list(dict.fromkeys(found))[:limit]


def false_positives(
    texts: list[tuple[str, str]], endpoint: str, sink: OTLPSink, timeout: float
) -> dict[str, tuple[int, int, collections.Counter[str], list[str]]]:
    """source -> (texts, texts changed, detectors that fired, examples), through the same pipeline."""
    sink.clear()
    telemetry = setup(
        "redaction-fuzz-ordinary",
        endpoint=endpoint,
        processors=ProcessorSettings(redact=("all",)),
        instrument=False,
        gpu=False,
        set_global=False,
    )
    tracer = telemetry.tracer_provider.get_tracer("redaction-fuzz")
    try:
        for index, (_, text) in enumerate(texts):
            if index % FLUSH_EVERY == FLUSH_EVERY - 1:
                telemetry.force_flush()  # a burst beyond the queue (2048) would be dropped, not leaked
            with tracer.start_as_current_span("ordinary", attributes={CASE_KEY: index, "text": text}):
                pass
        telemetry.force_flush()
        wait_until(lambda: len(sink.spans()) >= len(texts), timeout, "every ordinary text at the sink")
    finally:
        telemetry.shutdown()
    received = {int(s.attributes[CASE_KEY]): s.attributes["text"] for s in sink.spans() if CASE_KEY in s.attributes}
    report: dict[str, tuple[int, int, collections.Counter[str], list[str]]] = {}
    for index, (source, text) in enumerate(texts):
        total, changed, detectors, examples = report.get(source, (0, 0, collections.Counter(), []))
        out = received.get(index, text)
        if out != text:
            changed += 1
            for token in set(part.split("]")[0] for part in out.split("[REDACTED:")[1:]):
                detectors[token] += 1
            if len(examples) < 8:
                examples.append(out[:160])
        report[source] = (total + 1, changed, detectors, examples)
    return report


def print_table(outcome: Outcome, elapsed: float) -> None:
    print(
        f"\nSecret cases: {outcome.cases} in {elapsed:.1f} s; leaks: {len(outcome.leaks)}; "
        f"never received: {len(outcome.missing)}"
    )
    print(f"{'detector':<16}{'cases':>7}   {'disguise':<12}{'cases':>7}   {'placed on':<16}{'cases':>7}")
    rows = max(len(outcome.by_detector), len(outcome.by_disguise), len(outcome.by_place))
    columns = [
        (sorted(c.items()), width)
        for c, width in ((outcome.by_detector, 16), (outcome.by_disguise, 12), (outcome.by_place, 16))
    ]
    for i in range(rows):
        print(
            "   ".join(
                f"{rows_[i][0]:<{width}}{rows_[i][1]:>7}" if i < len(rows_) else " " * (width + 7)
                for rows_, width in columns
            )
        )
    for case, exported in outcome.leaks[:10]:
        print(f"LEAK #{case.index} {case.detector}/{case.disguise}: {case.carrier!r}\n  exported: {exported[:300]!r}")
    for case in outcome.missing[:10]:
        print(f"MISSING #{case.index} {case.detector}/{case.disguise}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 secret cases, 300 ordinary texts")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--ordinary", type=int, default=4_000, help="generated ordinary texts")
    parser.add_argument("--stdlib", type=int, default=4_000, help="standard-library docstring paragraphs")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.quick:
        args.cases, args.ordinary, args.stdlib = 600, 200, 100
    timeout = 60 + args.cases / 100
    sink = OTLPSink().start()
    collector = Rotel(sink).start()
    try:
        # The harness must be able to see a leak: without redaction, every case leaks.
        control = run_secret_cases(min(args.cases, 320), args.seed, collector.grpc_endpoint, sink, timeout, redact=())
        print(
            f"Control run without redaction: {len(control.leaks)} of {control.cases} cases leak "
            f"({len(control.missing)} never received)"
        )
        started = time.perf_counter()
        outcome = run_secret_cases(args.cases, args.seed, collector.grpc_endpoint, sink, timeout)
        print_table(outcome, time.perf_counter() - started)
        rng = random.Random(args.seed + 1)
        texts = [("generated", ordinary_text(rng)) for _ in range(args.ordinary)]
        texts += [("stdlib docstrings", p) for p in stdlib_paragraphs(args.stdlib)]
        report = false_positives(texts, collector.grpc_endpoint, sink, timeout)
    finally:
        collector.stop()
        sink.stop()
    print("\nOrdinary text (no secrets planted): texts changed by redaction")
    print(f"{'corpus':<20}{'texts':>7}{'changed':>9}{'rate':>9}   detectors")
    for source, (total, changed, detectors, examples) in report.items():
        print(f"{source:<20}{total:>7}{changed:>9}{changed / total:>9.2%}   {dict(detectors)}")
        for example in examples:
            print(f"    {example!r}")
    harness_blind = len(control.leaks) != control.cases
    if harness_blind:
        print("ERROR: the control run did not leak every case; the leak check cannot be trusted")
    return 1 if outcome.leaks or outcome.missing or harness_blind else 0


if __name__ == "__main__":
    sys.exit(main())
