"""``rnn-grader``: a thin shell over :mod:`grader.api`. Exit status 0 all passed, 1 not, 2 usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _common(p: argparse.ArgumentParser) -> None:
    from grader.engine import DEFAULT_SEED

    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"checks' seed (default: {DEFAULT_SEED})")
    p.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "rlimits"))
    p.add_argument("--assignment", default=None, help="rnn_scratch or rnn_deep (default: from the file)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnn-grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="the student's check: public checks of one notebook")
    check.add_argument("notebook")
    check.add_argument("--json", default=None, help="also write the record here")
    _common(check)
    grade = sub.add_parser("grade", help="the instructor's grade: public + hidden checks, one record each")
    grade.add_argument("paths", nargs="+", help="notebooks, .py files, or folders such as submitted/")
    grade.add_argument("--out", required=True, help="folder for the records")
    grade.add_argument("--solutions", default=None, help="the course's solutions/ folder (hidden checks)")
    _common(grade)
    demo = sub.add_parser("demo", help="grade the bundled example submissions and print the table")
    demo.add_argument("--out", default="out/demo", help="folder for the records (default: out/demo)")
    _common(demo)
    return parser


def _device(name: str) -> str:
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"check": _check, "grade": _grade, "demo": _demo}[args.command](args)


def _check(args) -> int:
    from rich.console import Console

    from grader.api import check_notebook
    from grader.record import write_record
    from grader.reports import submission_table

    if not Path(args.notebook).exists():
        print(f"rnn-grader: {args.notebook}: no such file", file=sys.stderr)
        return 2
    record = check_notebook(args.notebook, assignment=args.assignment, device=_device(args.device),
                            seed=args.seed, isolation=args.isolation)
    Console().print(submission_table(record))
    if args.json:
        write_record(record, args.json)
    return 0 if all(p.status == "passed" for p in record.parts) else 1


def _grade(args) -> int:
    from rich.console import Console

    from grader.api import grade_paths
    from grader.reports import class_table

    records = grade_paths(args.paths, out_dir=args.out, solutions=args.solutions, device=_device(args.device),
                          seed=args.seed, isolation=args.isolation, assignment=args.assignment)
    Console().print(class_table(records))
    return 0


def _demo(args) -> int:
    from rich.console import Console

    from grader.api import grade_paths
    from grader.reports import class_table

    root = Path(__file__).resolve().parents[1]
    if not (root / "solutions").is_dir():
        print("rnn-grader demo: needs a source checkout (solutions/ and examples/)", file=sys.stderr)
        return 2
    submissions = _build_examples(root, Path(args.out) / "submissions")
    solutions = root / "solutions" if (root / "solutions" / "hidden.py").exists() else None
    records = grade_paths([submissions], out_dir=Path(args.out) / "records", solutions=solutions,
                          device=_device(args.device), seed=args.seed, isolation=args.isolation)
    Console().print(class_table(records))
    print(f"records written to {args.out}/records/")
    return 0


def _build_examples(root: Path, out: Path) -> Path:
    """Write the example submissions: the reference with a bug fixture's patch applied."""
    import json

    from grader.notebook.patch import patched_source

    out.mkdir(parents=True, exist_ok=True)
    spec = json.loads((root / "examples" / "submissions.json").read_text(encoding="utf-8"))
    for name, entry in spec.items():
        if name.startswith("_"):
            continue
        base = (root / "solutions" / f"{entry['assignment']}.py").read_text(encoding="utf-8")
        patch = (root / entry["patch"]).read_text(encoding="utf-8") if entry["patch"] else ""
        (out / f"{name}.py").write_text(patched_source(base, patch), encoding="utf-8")
    return out


if __name__ == "__main__":
    sys.exit(main())
