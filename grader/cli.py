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


def _training(p: argparse.ArgumentParser) -> None:  # issue 5: the training parts
    from grader.training.profiles import PROFILES

    p.add_argument("--profile", default="fast", choices=sorted(PROFILES), help="the training profile")
    p.add_argument("--end-to-end", action="store_true",
                   help="train with the submission's one_hot and grad_clipping too, not the grader's")



def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive {kind.__name__}")
        return value

    return parse


def _limits(p: argparse.ArgumentParser) -> None:
    """Sandbox limits; left out, each keeps its safe default (see grader.sandbox.limits.WorkerLimits)."""
    from grader.engine import GradeOptions
    from grader.sandbox.limits import WorkerLimits

    d, g = WorkerLimits(), GradeOptions()
    p.add_argument("--memory-mib", type=_positive(int), default=None,
                   help=f"address-space limit of the worker, MiB (default: {d.memory_bytes >> 20})")
    p.add_argument("--cpu-seconds", type=_positive(int), default=None,
                   help=f"CPU time of one worker, s (default: {d.cpu_seconds})")
    p.add_argument("--call-seconds", type=_positive(float), default=None,
                   help=f"wall-clock limit of one call into the submission, s (default: {d.call_seconds:g})")
    p.add_argument("--part-seconds", type=_positive(float), default=None,
                   help=f"wall-clock limit of the checks of one part, s (default: {g.part_seconds:g})")
    p.add_argument("--output-mib", type=_positive(int), default=None,
                   help=f"largest file written by the worker, MiB (default: {d.output_bytes >> 20})")


def _limit_kwargs(args) -> dict:
    """The API's `limits` and `part_seconds` from the limit flags given."""
    from dataclasses import replace

    from grader.sandbox.limits import WorkerLimits

    given = {"memory_bytes": args.memory_mib and args.memory_mib << 20, "cpu_seconds": args.cpu_seconds,
             "call_seconds": args.call_seconds, "output_bytes": args.output_mib and args.output_mib << 20}
    given = {k: v for k, v in given.items() if v is not None}
    return {"limits": replace(WorkerLimits(), **given) if given else None, "part_seconds": args.part_seconds}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnn-grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="the student's check: public checks of one notebook")
    check.add_argument("notebook")
    check.add_argument("--json", default=None, help="also write the record here")
    _common(check)
    _training(check)
    _limits(check)
    grade = sub.add_parser("grade", help="the instructor's grade: public + hidden checks, one record each")
    grade.add_argument("paths", nargs="*", help="notebooks, .py files, or folders such as submitted/ "
                       "(default with --course: the course's submitted/*/<assignment>/)")
    grade.add_argument("--out", required=True, help="folder for the records")
    grade.add_argument("--solutions", default=None, help="the course's solutions/ folder (hidden checks)")
    grade.add_argument("--workers", type=int, default=None,
                       help="submissions graded at once (default: cores)")
    grade.add_argument("--scheduler", default=None,
                       help="a Dask scheduler address, or 'local' for a LocalCluster of --workers processes: "
                            "one task per submission (needs the dask extra)")
    grade.add_argument("--course", default=None,
                       help="nbgrader course folder: also write its gradebook and feedback pages")
    _common(grade)
    _training(grade)
    _limits(grade)
    calibrate = sub.add_parser("calibrate", help="calibrate a training profile's thresholds (reference runs)")
    calibrate.add_argument("--profile", default="fast", help="the profile to calibrate (default: fast)")
    calibrate.add_argument("--seeds", type=int, default=20, help="reference runs per part, >= 10")
    calibrate.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    calibrate.add_argument("--workers", type=int, default=None, help="runs at once on CPU (default: cores)")
    calibrate.add_argument("--solutions", default=None, help="the course's solutions/ folder")
    export = sub.add_parser("export", help="a CSV of grades, one row per student and assignment")
    export.add_argument("--records", required=True, help="folder of records (the --out of grade)")
    export.add_argument("--out", required=True, help="CSV file to write, e.g. grades.csv")
    diff = sub.add_parser("diff", help="what a regrade changed, per student and part; exit 0 if nothing")
    diff.add_argument("old_dir", help="records before the regrade")
    diff.add_argument("new_dir", help="records after the regrade")
    feedback = sub.add_parser("feedback", help="one HTML page per record, for nbgrader release_feedback")
    feedback.add_argument("--records", required=True, help="folder of records (the --out of grade)")
    feedback.add_argument("--course", required=True, help="nbgrader course folder; pages go under feedback/")
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
    return {"check": _check, "grade": _grade, "demo": _demo, "calibrate": _calibrate,
            "export": _export, "diff": _diff, "feedback": _feedback}[args.command](args)


def _check(args) -> int:
    from rich.console import Console

    from grader.api import check_notebook
    from grader.record import write_record
    from grader.reports import submission_table

    if not Path(args.notebook).exists():
        print(f"rnn-grader: {args.notebook}: no such file", file=sys.stderr)
        return 2
    record = check_notebook(args.notebook, assignment=args.assignment, device=_device(args.device),
                            seed=args.seed, isolation=args.isolation, profile=args.profile,
                            end_to_end=args.end_to_end, **_limit_kwargs(args))
    Console().print(submission_table(record))
    if args.json:
        write_record(record, args.json)
    return 0 if all(p.status == "passed" for p in record.parts) else 1


def _grade(args) -> int:
    from rich.console import Console

    from grader.api import grade_paths
    from grader.errors import ConfigError
    from grader.reports import class_table

    paths = args.paths or _submitted(args.course, args.assignment)
    if not paths:
        print("rnn-grader grade: nothing to grade: give notebooks or folders, or --course with "
              "submitted/<student>/<assignment>/ notebooks", file=sys.stderr)
        return 2
    try:
        records = grade_paths(paths, out_dir=args.out, solutions=args.solutions,
                              device=_device(args.device), seed=args.seed, isolation=args.isolation,
                              assignment=args.assignment, workers=args.workers, progress=True,
                              profile=args.profile, end_to_end=args.end_to_end, scheduler=args.scheduler,
                              **_limit_kwargs(args))
    except ConfigError as exc:
        print(f"rnn-grader grade: {exc}", file=sys.stderr)
        return 2
    Console().print(class_table(records))
    return _publish(records, args.course) if args.course else 0


def _submitted(course: str | None, assignment: str | None) -> list[Path]:
    """What nbgrader collect gathered: ``<course>/submitted/<student>/<assignment>/``, one folder each."""
    if course is None:
        return []
    return sorted(Path(course).glob(f"submitted/*/{assignment or '*'}"))


def _calibrate(args) -> int:  # issue 5
    from grader.errors import ConfigError
    from grader.training.calibrate import calibrate

    try:
        entry = calibrate(profile=args.profile, seeds=args.seeds, device=_device(args.device),
                          workers=args.workers, solutions=args.solutions)
    except ConfigError as exc:
        print(f"rnn-grader calibrate: {exc}", file=sys.stderr)
        return 2
    for part, e in entry["parts"].items():
        limit = "" if e["limit"] is None else f"; limit {e['limit']:.2f}"
        print(f"{args.profile} {part}: threshold {e['threshold']:.2f} (reference {e['reference_mean']:.2f} "
              f"± {e['reference_std']:.2f}, worst {e['reference_max']:.2f}{limit}): {e['derivation']}")
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


def _export(args) -> int:
    from grader.errors import ConfigError
    from grader.export import export_csv

    try:
        path = export_csv(args.records, args.out)
    except ConfigError as exc:
        print(f"rnn-grader export: {exc}", file=sys.stderr)
        return 2
    print(f"grades written to {path}")
    return 0


def _diff(args) -> int:
    from rich.console import Console

    from grader.errors import ConfigError
    from grader.regrade import changes_table, diff_records, exit_status

    try:
        changes = diff_records(args.old_dir, args.new_dir)
    except ConfigError as exc:
        print(f"rnn-grader diff: {exc}", file=sys.stderr)
        return 2
    if changes:
        Console().print(changes_table(changes))
    else:
        print("no part changed")
    return exit_status(changes)


def _feedback(args) -> int:
    from grader.errors import ConfigError
    from grader.feedback import write_feedback_pages

    try:
        pages = write_feedback_pages(args.records, args.course)
    except ConfigError as exc:
        print(f"rnn-grader feedback: {exc}", file=sys.stderr)
        return 2
    print(f"{len(pages)} feedback pages written under {Path(args.course) / 'feedback'}")
    return 0


def _publish(records, course: str) -> int:
    """grade --course: the gradebook and the feedback pages; 2 when the course is not set up."""
    from grader.course import publish
    from grader.errors import ConfigError

    try:
        published = publish(records, course_dir=course)
    except ConfigError as exc:
        print(f"rnn-grader grade: {exc}", file=sys.stderr)
        return 2
    for assignment, report in published.gradebook.items():
        skipped = f", no grade cell for {len(report.skipped)}" if report.skipped else ""
        kept = f", {len(report.overridden)} manual overrides kept" if report.overridden else ""
        print(f"gradebook {assignment}: {len(report.written)} scores written{skipped}{kept}")
    print(f"{len(published.pages)} feedback pages written under {Path(course) / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
