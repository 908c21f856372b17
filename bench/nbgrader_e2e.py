"""Seconds per step of the nbgrader workflow on a scratch course with three students.

    python bench/nbgrader_e2e.py [--keep DIR]

The same flow as ``tests/assignments/test_nbgrader_e2e.py`` (``tests/assignments/nbgrader_flow.py``):
generate, release, fetch, submit, collect, ``nbgrader autograde`` (the grade cells call the
engine), ``generate_feedback``, ``rnn-grader grade --course``, both exports, release and fetch
the feedback. Prints a table of wall-clock and CPU seconds per step and writes
``bench/results/nbgrader_e2e.json`` with them and the two CSVs the flow produced.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", default=None, help="run in this (new) folder and keep it")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "nbgrader_e2e.json"))
    args = parser.parse_args(argv)
    from tests.assignments.nbgrader_flow import Flow, print_table

    with tempfile.TemporaryDirectory(prefix="nbgrader-e2e-") as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        flow = Flow(root)
        try:
            flow.run_all()
        finally:
            print_table(flow)
        summary = flow.summary()
    summary["machine"] = {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": _cpus()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    import json

    out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(summary["nbgrader_export_csv"])
    print(summary["rnn_grader_export_csv"])
    print(f"written to {out}")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


if __name__ == "__main__":
    sys.exit(main())
