"""What reading a hostile notebook costs the grader's own process.

    python bench/extract_speed.py

Extraction runs in the trusted parent, outside the sandbox's timers, so its cost must be bounded by
the size bounds alone. Two tables, one run:

1. Source segments of a helper cell of ``n`` one-line definitions that the answers use (every line is
   taken): ``ast.get_source_segment`` per node (it splits the whole cell on every call: quadratic)
   against ``extract._segments`` (one split per cell), with their ratio.
2. ``extract()`` on the worst notebooks the bounds allow: every cell at the per-cell bound, the
   submission at the total bound, in the shapes that cost most (helper definitions the answers use,
   IPython magics that need transforming, one answer cell over the bound), best of 3.

Writes bench/results/extract_speed.json.
"""

from __future__ import annotations

import ast
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.exercises import get_assignment  # noqa: E402
from grader.notebook.extract import MAX_CELL_BYTES, MAX_CODE_BYTES, _segments, extract  # noqa: E402


def best_of(fn, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def segments_table() -> list[dict]:
    rows = []
    for n in (500, 1_000, 2_000, 4_000):
        source = "".join(f"x{i} = {i}\n" for i in range(n))
        nodes = ast.parse(source).body
        stdlib = best_of(lambda s=source, ns=nodes: [ast.get_source_segment(s, nd) for nd in ns], rounds=1)
        ours = best_of(lambda s=source, ns=nodes: _segments(s, ns))
        rows.append({"definitions": n, "kib": round(len(source) / 1024, 1), "stdlib_s": round(stdlib, 4),
                     "one_split_s": round(ours, 5), "ratio": round(stdlib / ours, 1)})
    return rows


def notebook(cells: list[tuple[str, str | None]]) -> dict:
    """A notebook of code cells: (source, grade_id of an answer cell or None)."""
    out = []
    for source, grade_id in cells:
        meta = {"nbgrader": {"grade_id": grade_id, "solution": True, "grade": False}} if grade_id else {}
        out.append({"cell_type": "code", "metadata": meta, "source": source, "outputs": [],
                    "execution_count": None})
    return {"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def worst_notebooks() -> dict[str, dict]:
    functions = get_assignment("rnn_scratch").functions
    cells = MAX_CODE_BYTES // MAX_CELL_BYTES
    uses = "def one_hot(X, n):\n    return " + " + ".join(f"x{j}" for j in range(cells)) + "\n"
    helpers = [(f"x{j} = 1\n" * (MAX_CELL_BYTES // len(f"x{j} = 1\n")), None) for j in range(cells)]
    magics = "%time x = 1\n" * (MAX_CELL_BYTES // 12)
    at_bound = "y = 1\n" * (MAX_CELL_BYTES // 6)
    return {
        "helper definitions the answers use, 1 MiB": notebook([(uses, "one_hot"), *helpers]),
        "IPython magics, 1 MiB": notebook([(magics, None)] * (MAX_CODE_BYTES // len(magics))),
        "one answer cell of 900 KiB": notebook([("x = 1\n" * 150_000, "one_hot")]),
        "every answer cell at the bound": notebook([(at_bound, f) for f in functions]),
    }, functions


def main() -> None:
    segments = segments_table()
    print(f"{'definitions':>11} {'KiB':>7} {'stdlib s':>10} {'one split s':>12} {'ratio':>7}")
    for r in segments:
        print(f"{r['definitions']:>11} {r['kib']:>7} {r['stdlib_s']:>10} {r['one_split_s']:>12} "
              f"{r['ratio']:>7}")
    shapes, functions = worst_notebooks()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rnn_scratch.ipynb"
        for name, nb in shapes.items():
            path.write_text(json.dumps(nb))
            seconds = best_of(lambda: extract(path, functions))
            mib = round(path.stat().st_size / 2**20, 2)
            rows.append({"notebook": name, "mib": mib, "seconds": round(seconds, 3)})
    print(f"\n{'worst notebook under the bounds':45} {'MiB':>5} {'extract s':>10}")
    for r in rows:
        print(f"{r['notebook']:45} {r['mib']:>5} {r['seconds']:>10}")
    out = ROOT / "bench" / "results" / "extract_speed.json"
    bounds = {"cell_bytes": MAX_CELL_BYTES, "code_bytes": MAX_CODE_BYTES}
    out.write_text(json.dumps({"segments": segments, "extract": rows, "bounds": bounds}, indent=1) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
