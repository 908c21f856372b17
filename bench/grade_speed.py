"""Seconds to grade one submission, per part, through the sandbox (CPU, and CUDA when present).

    python bench/grade_speed.py [--repeat 3] [--device cpu|cuda|all]

Prints a table and writes bench/results/grade_speed-<device>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUBMISSIONS = {
    "reference rnn_scratch": ("rnn_scratch", None),
    "bug rnn_no_whh": ("rnn_scratch", "tests/submissions/bug_rnn_no_whh/patch.py"),
    "reference rnn_deep": ("rnn_deep", None),
    "bug rnn2_drops_whh2": ("rnn_deep", "tests/submissions/bug_rnn2_drops_whh2/patch.py"),
}


def build(tmp: Path) -> dict[str, tuple[str, Path]]:
    from grader.notebook.patch import patched_source

    out = {}
    for name, (assignment, patch) in SUBMISSIONS.items():
        base = (ROOT / "solutions" / f"{assignment}.py").read_text()
        path = tmp / (name.replace(" ", "_") + ".py")
        path.write_text(patched_source(base, (ROOT / patch).read_text() if patch else ""))
        out[name] = (assignment, path)
    return out


def measure(device: str, repeat: int) -> dict:
    import torch

    from grader.engine import GradeOptions, grade_submission

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (assignment, path) in build(Path(tmp)).items():
            runs = []
            for _ in range(repeat):
                start = time.perf_counter()
                record = grade_submission(path, assignment=assignment, options=GradeOptions(device=device))
                runs.append((time.perf_counter() - start, record))
            seconds = [s for s, _ in runs]
            record = runs[-1][1]
            rows[name] = {"median_s": statistics.median(seconds), "runs_s": seconds, "score": record.score,
                          "max_score": record.max_score, "isolation": record.isolation,
                          "parts_s": {p.name: p.seconds for p in record.parts}}
    return {"device": device, "torch": torch.__version__, "machine": platform.machine(),
            "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None, "repeat": repeat,
            "rows": rows}


def show(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"grading time per submission on {result['device']} {result['gpu'] or ''}")
    for column in ("submission", "score", "median s", "slowest part"):
        table.add_column(column)
    for name, row in result["rows"].items():
        slow = max(row["parts_s"].items(), key=lambda kv: kv[1])
        table.add_row(name, f"{row['score']:g}/{row['max_score']:g}", f"{row['median_s']:.2f}",
                      f"{slow[0]} {slow[1]:.2f} s")
    Console().print(table)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="all", choices=("cpu", "cuda", "all"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    for device in devices:
        if device == "cuda" and not torch.cuda.is_available():
            continue
        result = measure(device, args.repeat)
        show(result)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / f"grade_speed-{device}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
