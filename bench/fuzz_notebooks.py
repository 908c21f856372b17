"""The notebook fuzzer at scale: mutated submissions graded end to end, counting grader crashes.

    python bench/fuzz_notebooks.py [--cases 1000] [--seed 0] [--workers 2] [--every-case] [--out NAME]

Each case is drawn from tests/fuzzing.py's ``mutated_notebooks`` strategy (a seeded hypothesis
draw, so a run is reproducible), written to a file and graded without the training parts; cases
that extraction turns into the same cells are graded once (see ``same_extraction``), unless
``--every-case`` grades each one end to end (written to fuzz_notebooks-every-case.json). A case
is a *crash* when grading raised, or the record is invalid, incomplete or says the grader failed.
Prints a table per mutation and writes bench/results/fuzz_notebooks.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def draw_cases(n: int, seed: int) -> list[tuple[list[str], bytes]]:
    """`n` cases from the strategy, reproducibly: hypothesis's own data source under a seeded Random."""
    import random

    from hypothesis.internal.conjecture.data import ConjectureData

    from tests.fuzzing import base_notebook, mutated_notebooks

    strategy, rng = mutated_notebooks(base=base_notebook()), random.Random(seed)
    cases = []
    while len(cases) < n:
        data = ConjectureData(random=rng, max_choices=100_000)
        try:
            cases.append(data.draw(strategy))
        except Exception:  # an overrun draw: hypothesis would discard it too
            continue
    return cases


def grade_case(case: tuple[list[str], bytes]) -> dict:
    from grader.engine import GradeOptions, grade_submission
    from grader.exercises import get_assignment
    from grader.sandbox.limits import WorkerLimits
    from tests.fuzzing import record_problems

    steps, data = case
    options = GradeOptions(training=False, max_examples=1, part_seconds=60.0,
                           limits=WorkerLimits(call_seconds=10.0, memory_bytes=3 << 30, cpu_seconds=120))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rnn_scratch.ipynb"
        path.write_bytes(data)
        try:
            record = grade_submission(path, options=options)
        except Exception as exc:
            return {"steps": steps, "crash": f"{type(exc).__name__}: {exc}", "record": False}
        problems = record_problems(record, get_assignment("rnn_scratch"), training=False)
    sandboxed = any(p.status != "missing" for p in record.parts)
    return {"steps": steps, "crash": "; ".join(problems) or None, "record": not problems, "bytes": len(data),
            "sandboxed": sandboxed, "score": record.score, "statuses": [p.status for p in record.parts],
            "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="Generating overly large repr")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every-case", action="store_true", help="grade every case end to end")
    parser.add_argument("--out", default="", help="the results file's name under bench/results")
    args = parser.parse_args()
    cases = draw_cases(args.cases, args.seed)
    groups = same_extraction(cases)
    if args.every_case:
        groups = {str(i): [i] for i in range(len(cases))}
    name = args.out or ("fuzz_notebooks-every-case.json" if args.every_case else "fuzz_notebooks.json")
    started, results = time.monotonic(), []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for key, result in zip(groups, pool.map(grade_case, [cases[ids[0]] for ids in groups.values()]),
                               strict=True):
            first = groups[key][0]
            results += [{**result, "steps": cases[i][0], "bytes": len(cases[i][1]), "reused": i != first}
                        for i in groups[key]]
            if len(groups) < 20 or len(results) // 50 != (len(results) - len(groups[key])) // 50:
                report(results, args.seed, time.monotonic() - started, final=False, name=name)
    report(results, args.seed, time.monotonic() - started, final=True, name=name)


EXTRACT_SECONDS: list[float] = []
"""How long extraction (in the grader's own process) took for each case."""


def same_extraction(cases: list[tuple[list[str], bytes]]) -> dict[str, list[int]]:
    """Cases grouped by what extraction makes of them (cells, problems, error).

    Everything after extraction depends on that alone (the checks' seed is fixed), so one case per
    group is graded end to end and its verdict stands for the group: every case still goes through
    extraction, and every distinct thing extraction produced goes through the sandbox.
    """
    import hashlib

    from grader.engine import _all_functions
    from grader.notebook.extract import extract

    groups: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rnn_scratch.ipynb"
        for i, (_, data) in enumerate(cases):
            path.write_bytes(data)
            started = time.perf_counter()
            got = extract(path, _all_functions())
            EXTRACT_SECONDS.append(time.perf_counter() - started)
            cells = [(c.name, c.source) for c in got.cells]
            key = json.dumps([cells, sorted(got.problems.items()), got.error])
            groups.setdefault(hashlib.sha256(key.encode()).hexdigest(), []).append(i)
    return groups


def report(results: list[dict], seed: int, seconds: float, *, final: bool, name: str) -> None:
    """The table (at the end) and the JSON (also every 50 cases, so a long run shows its progress)."""
    crashes = [r for r in results if r["crash"]]
    by_step = Counter(step for r in results for step in r["steps"])
    crash_steps = Counter(step for r in crashes for step in r["steps"])
    summary = {"cases": len(results), "crashes": len(crashes), "records": sum(r["record"] for r in results),
               "reached_sandbox": sum(bool(r.get("sandboxed")) for r in results), "seed": seed,
               "graded_end_to_end": sum(not r["reused"] for r in results),
               "part_statuses": dict(Counter(s for r in results for s in r.get("statuses", []))),
               "extract_seconds_max": round(max(EXTRACT_SECONDS, default=0), 3),
               "extract_seconds_mean": round(sum(EXTRACT_SECONDS) / max(len(EXTRACT_SECONDS), 1), 4),
               "seconds": round(seconds, 1), "finished": final}
    out = ROOT / "bench" / "results" / name
    data = {**summary, "by_mutation": dict(by_step), "crashes_by_mutation": dict(crash_steps),
            "crash_cases": crashes}
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(" ".join(f"{k}={v}" for k, v in summary.items()), flush=True)
    if not final:
        return
    print(f"{'mutation':24} {'cases':>6} {'crashes':>8}")
    for step, count in sorted(by_step.items()):
        print(f"{step:24} {count:6d} {crash_steps.get(step, 0):8d}")
    for r in crashes[:20]:
        print("CRASH", r["steps"], str(r["crash"])[:400])
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
