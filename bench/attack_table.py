"""The attack suite as a table: every hostile fixture graded, per category and isolation.

    python bench/attack_table.py [--isolation auto|bwrap|rlimits|both] [--max-examples 10]

For each fixture under tests/submissions/hostile_*: grade it (no training parts), write its record
to a scratch records folder beside a canary record of another student, and check the verdict
against its expected.json. A case is *contained* when the verdict matches, the canary is untouched
and the record reads back; a *grader crash* is an exception out of grade_submission or a record
that says the grader failed. A control submission (the reference) is graded after every hostile
one in the same process and must keep full marks. Prints a table and writes
bench/results/attack_table.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CANARY = b'{"score": 0, "note": "another student\'s record"}'


def grade_case(name: str, isolation: str, max_examples: int, tmp: Path) -> dict:
    from grader.engine import GradeOptions, grade_submission
    from grader.record import load_record, write_record
    from grader.sandbox.limits import WorkerLimits
    from tests.helpers import build_submission, expected, fixture_limits, verdict_problems

    spec = expected(name)
    base = WorkerLimits(call_seconds=8.0, memory_bytes=3 << 30, cpu_seconds=120)
    options = GradeOptions(limits=fixture_limits(name, base), part_seconds=60.0, training=False,
                           max_examples=max_examples, isolation=isolation)
    records = tmp / "records"
    records.mkdir(exist_ok=True)
    canary = records / "canary__rnn_scratch.json"
    canary.write_bytes(CANARY)
    started = time.monotonic()
    try:
        record = grade_submission(build_submission(name, tmp), assignment=spec["assignment"], options=options)
    except Exception as exc:  # what the suite exists to rule out
        return {"fixture": name, "category": spec["category"], "crash": f"{type(exc).__name__}: {exc}",
                "contained": False, "record": False, "problems": ["exception out of grade_submission"]}
    written = write_record(record, records / f"{name}__rnn_scratch.json")
    readable = load_record(written).parts == record.parts
    problems = verdict_problems(spec, record)
    if canary.read_bytes() != CANARY:
        problems.append("the canary record was changed")
    return {"fixture": name, "category": spec["category"], "isolation": record.isolation,
            "crash": record.error, "record": readable, "contained": not problems and readable,
            "problems": problems, "score": record.score, "seconds": round(time.monotonic() - started, 2)}


def control_ok(isolation: str, tmp: Path) -> bool:
    from grader.engine import GradeOptions, grade_submission

    path = tmp / "control.py"
    path.write_text((ROOT / "solutions" / "rnn_scratch.py").read_text(encoding="utf-8"), encoding="utf-8")
    record = grade_submission(path, assignment="rnn_scratch",
                              options=GradeOptions(training=False, max_examples=5, isolation=isolation))
    return record.score == record.max_score and record.error is None


def table(cases: list[dict]) -> list[dict]:
    rows: dict[tuple[str, str], dict] = {}
    for case in cases:
        key = (case["category"], case.get("isolation", "?"))
        row = rows.setdefault(key, {"category": key[0], "isolation": key[1], "cases": 0, "contained": 0,
                                    "grader_crashes": 0, "records_written": 0})
        row["cases"] += 1
        row["contained"] += bool(case["contained"])
        row["grader_crashes"] += bool(case["crash"])
        row["records_written"] += bool(case["record"])
    return [rows[k] for k in sorted(rows)]


def show(rows: list[dict], controls: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title="attack suite: hostile fixtures by category")
    for column in ("category", "isolation", "cases", "contained", "grader crashes", "records written"):
        out.add_column(column)
    counts = ("cases", "contained", "grader_crashes", "records_written")
    for r in rows:
        out.add_row(r["category"], r["isolation"], *(str(r[k]) for k in counts))
    out.add_row("all", "", *(str(sum(r[k] for r in rows)) for k in counts))
    Console().print(out)
    print("control submission after the attacks keeps full marks:", controls)


def main() -> None:
    from grader.sandbox.runner import isolation_available
    from tests.helpers import fixture_names

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isolation", default="both", choices=("auto", "bwrap", "rlimits", "both"))
    parser.add_argument("--max-examples", type=int, default=3)
    parser.add_argument("--only", default="", help="grade only fixtures whose name contains this")
    args = parser.parse_args()
    isolations = ([args.isolation] if args.isolation != "both"
                  else ["rlimits"] + (["bwrap"] if isolation_available() else []))
    cases, controls = [], {}
    for isolation in isolations:
        for name in fixture_names("hostile_"):
            if args.only in name:
                with tempfile.TemporaryDirectory() as tmp:
                    cases.append(grade_case(name, isolation, args.max_examples, Path(tmp)))
                verdict = "contained" if cases[-1]["contained"] else f"NOT CONTAINED {cases[-1]['problems']}"
                print(f"{isolation:8} {name:40} {verdict}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            controls[isolation] = control_ok(isolation, Path(tmp))
    rows = table(cases)
    show(rows, controls)
    out = ROOT / "bench" / "results" / "attack_table.json"
    out.write_text(json.dumps({"rows": rows, "controls": controls, "cases": cases,
                               "max_examples": args.max_examples}, indent=1) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
