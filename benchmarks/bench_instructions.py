"""Overhead in CPU instructions, counted by valgrind: repeatable on a machine busy with other work.

Run:  python benchmarks/bench_instructions.py                 (openai and anthropic, ~5-10 minutes)
      python benchmarks/bench_instructions.py --calls 40 --only "chat, sync"
      python benchmarks/bench_instructions.py --frameworks --calls 10   (Agents SDK run, MCP tools/call)

``bench_overhead.py`` times calls; on a shared 2-core machine its figures move by tens of
microseconds from run to run. This benchmark runs the same scenarios (the same SDK calls against
the same in-process fake, the same floor) under ``valgrind --tool=callgrind`` and counts the
instructions each phase executes, in every thread of the process (the batch processors' export
threads included). For each scenario, four phases are counted separately in one process:

* baseline: the SDK's original, unwrapped method;
* instrumented: the same call through our wrapper;
* floor: the bare OpenTelemetry SDK operations for the telemetry we emit (``make_floor``);
* floor-current: the same, with the span made current around the call (``start_as_current_span``),
  as it must be for what runs inside (the HTTP request, the application's logs) to see it.

Between phases the controller zeroes callgrind's counters and dumps them (``callgrind_control``),
so each figure covers exactly the N calls of its phase after a warm-up. Reported per call:
added = instrumented - baseline, and added / floor. Instruction counts are not time (an
instruction in a dict lookup and one in a cache miss count the same), but they compare code paths
exactly and identically from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PHASES = ("baseline", "instrumented", "floor", "floor-current")


# ------------------------------------------------------------------------------ the child (under valgrind)


def _runner(scenario: Any, loop: asyncio.AbstractEventLoop) -> Callable[[Callable[[], Any], int], None]:
    if scenario.is_async:

        def run_async(fn: Callable[[], Any], n: int) -> None:
            async def go() -> None:
                for _ in range(n):
                    await fn()

            loop.run_until_complete(go())

        return run_async

    def run(fn: Callable[[], Any], n: int) -> None:
        for _ in range(n):
            fn()

    return run


def _handshake(message: str) -> None:
    print(message, flush=True)
    sys.stdin.readline()


def _counted(phase: str, run: Callable[[int], Any], n: int, settle: Callable[[], Any] = lambda: None) -> None:
    """One phase under the controller's counters: a warm-up, a full collection with the collector
    then off, and ``run(n)`` between the READY and DONE handshakes (``settle`` before each)."""
    import gc

    run(max(2, n // 4))
    settle()
    gc.collect()
    gc.disable()
    _handshake(f"READY {phase}")
    run(n)
    settle()
    _handshake("DONE")
    gc.enable()


def child(providers: Sequence[str], calls: int, only: str | None, capture: str) -> None:
    # long: one loop over scenarios and phases, with the handshake at each phase boundary.
    sys.path.insert(0, str(HERE))

    from bench_overhead import OUTPUT_CHUNKS, SCENARIOS, Pipeline, make_floor  # type: ignore[import-not-found]

    from opentelemetry_instrumentation_llm.instrumentor import INSTRUMENTORS
    from opentelemetry_instrumentation_llm.testing import FakeLLM

    fake = FakeLLM()
    loop = asyncio.new_event_loop()
    pipeline = Pipeline.create()
    for provider in providers:
        instrumentor = INSTRUMENTORS[provider]()
        instrumentor.instrument(**pipeline.providers, capture_content=capture)
        scenarios, _clients = SCENARIOS[provider](fake, None, True)
        for scenario in scenarios:
            if only and not any(part in scenario.label for part in only.split(",")):
                continue
            run = _runner(scenario, loop)
            n = max(4, calls // (1 + scenario.chunks // 8))
            run(scenario.baseline, n)
            run(scenario.instrumented, n)  # warm-up, and the span the floor copies
            chunks = OUTPUT_CHUNKS[provider](scenario.chunks) if provider in OUTPUT_CHUNKS else None
            plain = _runner(type("S", (), {"is_async": False})(), loop)
            phases = {
                "baseline": (run, scenario.baseline),
                "instrumented": (run, scenario.instrumented),
                "floor": (plain, make_floor(pipeline, scenario.chunks, chunks)),
                "floor-current": (plain, make_floor(pipeline, scenario.chunks, chunks, current=True)),
            }
            for phase in PHASES:
                runner, fn = phases[phase]
                _counted(f"{scenario.label}|{phase}|{n}", functools.partial(runner, fn), n)
        instrumentor.uninstrument()
    print("END", flush=True)


def framework_child(calls: int, only: str | None, rounds: int) -> None:
    """The agent layer: an Agents SDK run and an MCP tools/call (``bench_agents``), each phase one of
    its modes (bare, the Agents SDK's own tracing with a do-nothing processor, ours, ...) or its floor;
    all phases ``rounds`` times over, so each mode's figure is a median over rounds."""
    sys.path.insert(0, str(HERE))

    from bench_agents import agents_suite, mcp_suite  # type: ignore[import-not-found]
    from bench_overhead import time_batch  # type: ignore[import-not-found]

    from opentelemetry_instrumentation_llm.testing import FakeLLM

    loop = asyncio.new_event_loop()
    for suite in (agents_suite(loop, FakeLLM()), mcp_suite(loop)):
        if only and not any(part in suite.label for part in only.split(",")):
            continue
        n = max(2, calls * suite.scale)
        floors = suite.floor()
        phases = {**suite.modes, **{name: (lambda: None, lambda: None) for name in floors}}
        for _round in range(rounds):
            for phase, (on, off) in phases.items():
                on()
                batch = functools.partial(time_batch, floors[phase]) if phase in floors else suite.batch
                # the flush puts the export of this phase's spans in this phase, whenever the timer fires
                _counted(f"{suite.label}|{phase}|{n}", batch, n, suite.flush)
                off()
    print("END", flush=True)


# ------------------------------------------------------------------------------ the controller


def _dumped_total(out_dir: str, before: set[str]) -> int:
    new = sorted(set(glob.glob(os.path.join(out_dir, "cg.out*"))) - before, key=os.path.getmtime)
    if not new:
        raise RuntimeError("callgrind wrote no dump")
    text = Path(new[-1]).read_text(errors="replace")
    match = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if match is None:
        raise RuntimeError(f"no totals in {new[-1]}")
    return int(match.group(1))


def control(args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    """Instructions per operation, by scenario and phase: one figure per round, in order."""
    out_dir = tempfile.mkdtemp(prefix="bench-instr-")
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_dir}/cg.out",
        "--dump-line=no",
        sys.executable,
        __file__,
        "--child",
        "--calls",
        str(args.calls),
        "--providers",
        args.providers,
        "--capture",
        args.capture,
        *(["--only", args.only] if args.only else []),
        *(["--frameworks", "--rounds", str(args.rounds)] if args.frameworks else []),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=out_dir)
    assert proc.stdin is not None and proc.stdout is not None
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for line in proc.stdout:
            line = line.strip()
            if line == "END":
                break
            if not line.startswith("READY "):
                print(line)
                continue
            label, phase, n = line[6:].rsplit("|", 2)
            subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True, capture_output=True)
            before = set(glob.glob(os.path.join(out_dir, "cg.out*")))
            proc.stdin.write("go\n")
            proc.stdin.flush()
            if proc.stdout.readline().strip() != "DONE":
                raise RuntimeError("child out of step")
            subprocess.run(["callgrind_control", "--dump", str(proc.pid)], check=True, capture_output=True)
            value = _dumped_total(out_dir, before) / int(n)
            results.setdefault(label, {}).setdefault(phase, []).append(value)
            proc.stdin.write("next\n")
            proc.stdin.flush()
            print(f"  {label:<34} {phase:<12} {value / 1000:9.1f} k instructions per call", flush=True)
    finally:
        proc.stdin.close()
        proc.wait(timeout=600)
    return results


def report_frameworks(samples: dict[str, dict[str, list[float]]]) -> None:
    """Per operation: each mode's added instructions over bare, and ours against the floor, both from
    bare and from the framework's own tracing cost (what any processor-based instrumentation pays).
    With several rounds, every figure is the median over rounds, and each round's ratio is listed."""
    for label, by_phase in samples.items():
        ours, bare, floor_current = by_phase["ours"], by_phase["bare"], by_phase["floor-current"]
        ratios = [(o - b) / f for o, b, f in zip(ours, bare, floor_current, strict=True)]
        r = {phase: statistics.median(values) for phase, values in by_phase.items()}
        print(f"\n{label} (k instructions per operation)")
        for phase, value in r.items():
            added = "" if phase == "bare" or phase.startswith("floor") else f"  added {(value - r['bare']) / 1e3:9.1f}"
            print(f"  {phase:<22}{value / 1e3:12.1f}{added}")
        added = r["ours"] - r["bare"]
        for floor in ("floor", "floor-current"):
            print(f"  ours added / {floor} = {added / r[floor]:.2f}")
            if "sdk-tracing" in r:
                own = r["ours"] - r["sdk-tracing"]
                print(f"  ours added beyond the SDK's own tracing / {floor} = {own / r[floor]:.2f}")
        if len(ratios) > 1:
            print(f"  ours added / floor-current, round by round: {', '.join(f'{x:.2f}' for x in ratios)}")


def report(samples: dict[str, dict[str, list[float]]]) -> None:
    results = {label: {phase: statistics.median(v) for phase, v in r.items()} for label, r in samples.items()}
    print(
        f"\n{'scenario':<36}{'baseline k':>11}{'instr. k':>10}{'added k':>9}{'floor k':>9}{'added/floor':>12}"
        f"{'floor-current k':>16}{'added/floor-current':>20}"
    )
    for label, r in results.items():
        added = r["instrumented"] - r["baseline"]
        print(
            f"{label:<36}{r['baseline'] / 1e3:11.1f}{r['instrumented'] / 1e3:10.1f}{added / 1e3:9.1f}"
            f"{r['floor'] / 1e3:9.1f}{added / r['floor']:12.2f}"
            f"{r['floor-current'] / 1e3:16.1f}{added / r['floor-current']:20.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100, help="calls per phase (streams: fewer, by length)")
    parser.add_argument("--providers", default="openai,anthropic")
    parser.add_argument(
        "--only", default=None, help="only scenarios whose label contains one of these comma-separated texts"
    )
    parser.add_argument("--capture", default="NO_CONTENT")
    parser.add_argument(
        "--frameworks", action="store_true", help="the agent layer (bench_agents.py's suites) instead of providers"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="with --frameworks: run every phase this many times over (medians)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child and args.frameworks:
        framework_child(args.calls, args.only, args.rounds)
        return 0
    if args.child:
        child(args.providers.split(","), args.calls, args.only, args.capture)
        return 0
    print(f"python {sys.version.split()[0]}, valgrind callgrind, calls={args.calls}, capture={args.capture}")
    (report_frameworks if args.frameworks else report)(control(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
