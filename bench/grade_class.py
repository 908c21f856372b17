"""Grade a whole class with ``nbgrader autograde`` and with ``rnn-grader grade``, on the same machine.

    python bench/grade_class.py [--n 40] [--workers 1 2] [--nbgrader-n N] [--skip-nbgrader]
                                [--curve 10 20 40] [--skip-curve] [--skip-overhead]

1. Builds a class of N ``rnn_scratch`` notebooks with nbgrader metadata in an nbgrader course
   under a temporary folder (``submitted/<student>/rnn_scratch/rnn_scratch.ipynb``): the release
   notebook with its answer cells filled from the reference solutions, with a bug fixture's patch,
   or with a hostile fixture's patch, in fixed proportions (4 : 4 : 2). The hostile fixtures are
   those that are safe to run *without* a sandbox (nbgrader runs them in a plain kernel): they
   cheat with builtins or end their process, never fork-bomb, allocate or print without bound.
2. Times ``nbgrader autograde`` on them (one process, one kernel per notebook; the gradebook is
   set up first and not timed), and ``rnn-grader grade`` with the ``fast`` training profile, the
   hidden checks and the sandbox on, for each ``--workers``.
3. The scaling curve: ``rnn-grader grade`` for N in ``--curve`` and each ``--workers``.
4. The sandbox overhead per worker: start, one trivial request, close; cold (a fresh
   interpreter) against warm (forked from a template that has imported torch).

Prints tables and writes ``bench/results/grade_class.json``. The machine is shared with other
jobs: the load average at the start and end of each run is recorded beside its time.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ASSIGNMENT = "rnn_scratch"
PATTERN = [
    "reference",
    "bug",
    "reference",
    "bug",
    "hostile",
    "reference",
    "bug",
    "reference",
    "bug",
    "hostile",
]
"""The kinds of submission, in order, repeated: 4 reference, 4 bug, 2 hostile in every 10."""
SAFE_HOSTILE = [
    "hostile_alias_g_one_hot",
    "hostile_exit_in_rnn",
    "hostile_clip_grad_norm",
    "hostile_nn_rnn_in_rnn",
    "hostile_sys_exit_in_clip",
    "hostile_getattr_one_hot",
    "hostile_monkeypatch_allclose",
    "hostile_vf_rnn_tanh",
]


# -- the class ----------------------------------------------------------------------------------


def fixtures_of(kind: str) -> list[str | None]:
    from tests.helpers import expected, fixture_names

    if kind == "reference":
        return [None]
    names = SAFE_HOSTILE if kind == "hostile" else fixture_names("bug_")
    return [n for n in names if expected(n)["assignment"] == ASSIGNMENT]


def class_plan(n: int) -> list[tuple[str, str | None]]:
    """(student, fixture or None for the reference) for n students, in the fixed proportions."""
    pools = {kind: fixtures_of(kind) for kind in set(PATTERN)}
    used = {kind: 0 for kind in pools}
    plan = []
    for i in range(n):
        kind = PATTERN[i % len(PATTERN)]
        pool = pools[kind]
        plan.append((f"s{i + 1:03d}", pool[(used[kind] * _stride(len(pool))) % len(pool)]))
        used[kind] += 1
    return plan


def _stride(n: int) -> int:
    """A step through n fixtures that visits them all, spread over the list (not only its first letters)."""
    import math

    return next(k for k in range(max(1, n // 3), n + 1) if math.gcd(k, n) == 1)


def submission_notebook(release, source: str):
    """The release notebook with each answer cell holding that function from `source`; the module's
    other statements (imports, helpers, module-level code) go to the first answer cell."""
    nb = copy.deepcopy(release)
    tree = ast.parse(source)
    answers = {
        c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    functions = {
        n.name: ast.get_source_segment(source, n)
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name in answers
    }
    extra = [
        ast.get_source_segment(source, n)
        for n in tree.body
        if not (isinstance(n, ast.FunctionDef) and n.name in answers)
        and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
    ]
    first = True
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in functions:
            cell.source = ("\n\n".join(extra) + "\n\n\n" if first and extra else "") + functions[grade_id]
            first = False
    return nb


def build_course(course: Path, n: int) -> list[tuple[str, str | None]]:
    import nbformat

    from tests.helpers import FIXTURES, patched_source

    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "assignments" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    release = nbformat.read(
        ROOT / "assignments" / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    plan = class_plan(n)
    for student, fixture in plan:
        patch = (FIXTURES / fixture / "patch.py").read_text() if fixture else ""
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(
            submission_notebook(release, patched_source(ASSIGNMENT, patch)), folder / f"{ASSIGNMENT}.ipynb"
        )
    return plan


# -- timed runs -----------------------------------------------------------------------------------


def _venv_env() -> dict:
    """This interpreter's bin folder first on PATH: nbgrader's gradebook runs ``alembic`` from there."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path}


def timed(cmd: list[str], cwd: Path, log: Path) -> dict:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=_venv_env())
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 2),
        "returncode": proc.returncode,
        "load_start": round(load, 2),
        "load_end": round(os.getloadavg()[0], 2),
        "log": str(log),
    }


def nbgrader(course: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "nbgrader", *args, f"--course-dir={course}"]


def run_nbgrader(course: Path, students: list[str], logs: Path) -> dict:
    """Gradebook set-up (not timed), then ``nbgrader autograde`` on every submission (timed)."""
    (course / "students.csv").write_text("id\n" + "\n".join(students) + "\n")
    for args in (
        ["db", "assignment", "add", ASSIGNMENT],
        ["db", "student", "import", "students.csv"],
        ["generate_assignment", ASSIGNMENT, "--force"],
    ):
        setup = timed(nbgrader(course, *args), course, logs / f"nbgrader-{args[0]}-{args[1]}.log")
        if setup["returncode"]:
            raise SystemExit(f"nbgrader {' '.join(args)} failed: see {setup['log']}")
    result = timed(
        nbgrader(course, "autograde", ASSIGNMENT, "--force"), course, logs / "nbgrader-autograde.log"
    )
    result["graded"] = len(list((course / "autograded").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")))
    return result


def run_rnn_grader(course: Path, workers: int, out: Path, logs: Path) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        str(course / "submitted"),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--profile",
        "fast",
        "--solutions",
        str(ROOT / "solutions"),
    ]
    result = timed(cmd, course, logs / f"rnn-grader-{out.name}.log")
    records = [json.loads(p.read_text()) for p in out.glob("*.json")]
    result["graded"] = len(records)
    result["isolation"] = sorted({r["isolation"] for r in records})
    result["scores"] = {r["student"]: r["score"] for r in records}
    return result


def throughput(result: dict, n: int) -> float:
    return round(60.0 * n / result["seconds"], 2)


# -- sandbox overhead --------------------------------------------------------------------------------


def worker_overhead(repeat: int) -> list[dict]:
    """Per worker: wall seconds to start it, answer one trivial request and close it, and the CPU
    seconds that costs in every process involved (the grader, the template, the workers, bubblewrap),
    which unlike the wall time hardly depends on what else the machine runs. Cold against warm."""
    from grader.sandbox import forkserver
    from grader.sandbox.runner import Sandbox, isolation_available

    rows = []
    for isolation in ["rlimits"] + (["bwrap"] if isolation_available() else []):
        for warm in (False, True):
            sandbox = Sandbox(isolation=isolation, warm=warm)
            first, _ = _cycle(sandbox)  # warm: includes starting the template
            template = next(iter(forkserver._IDLE.get(forkserver._key(sandbox), [])), None)
            cpu = time.process_time() + (_tree_cpu(template.proc.pid) if template else 0.0)
            cycles = [_cycle(sandbox) for _ in range(repeat)]
            cpu = time.process_time() + (_tree_cpu(template.proc.pid) if template else 0.0) - cpu
            cpu += sum(worker_cpu for _, worker_cpu in cycles)  # cold: each worker's own tree
            forkserver.close_templates()
            rows.append(
                {
                    "isolation": isolation,
                    "worker": "warm" if warm else "cold",
                    "first_s": round(first, 4),
                    "median_s": round(statistics.median(s for s, _ in cycles), 4),
                    "runs_s": [round(s, 4) for s, _ in cycles],
                    "cpu_per_worker_s": round(cpu / repeat, 4),
                    "load": round(os.getloadavg()[0], 2),
                }
            )
    return rows


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants, with the children each has reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    own = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    return own + sum(_tree_cpu(c) for c in children)


def _cycle(sandbox) -> tuple[float, float]:
    """Wall seconds of one worker's life, and (cold) the CPU seconds of its process tree."""
    start = time.perf_counter()
    with sandbox.start() as worker:
        reply, _ = worker.request({"op": "names", "names": ["one_hot"]}, timeout=120)
        assert reply["ok"], reply
        cpu = 0.0 if sandbox.warm else _tree_cpu(worker.proc.pid)
    return time.perf_counter() - start, cpu


# -- report -----------------------------------------------------------------------------------------


def show(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    n = result["n"]
    base = result.get("nbgrader")
    table = Table(title=f"grading a class of {n} rnn_scratch notebooks ({result['cores']} cores)")
    for column in ("tool", "workers", "N", "seconds", "submissions/min", "× nbgrader", "load"):
        table.add_column(column, justify="right" if column not in ("tool",) else "left")
    if base:
        table.add_row(
            "nbgrader autograde",
            "1 (serial)",
            str(base["n"]),
            f"{base['seconds']:.1f}",
            f"{base['per_min']:.1f}",
            "1.0",
            f"{base['load_start']:.1f}",
        )
    for row in result["rnn_grader"]:
        ratio = f"{row['per_min'] / base['per_min']:.1f}" if base else "-"
        table.add_row(
            "rnn-grader grade",
            str(row["workers"]),
            str(row["n"]),
            f"{row['seconds']:.1f}",
            f"{row['per_min']:.1f}",
            ratio,
            f"{row['load_start']:.1f}",
        )
    if result["rnn_grader"] or base:
        console.print(table)
    if result.get("curve"):
        curve = Table(title="rnn-grader grade: scaling (seconds; seconds per submission)")
        for column in ("N", *[f"workers={w}" for w in result["workers"]]):
            curve.add_column(column, justify="right")
        for n_i in sorted({r["n"] for r in result["curve"]}):
            cells = []
            for w in result["workers"]:
                row = next((r for r in result["curve"] if r["n"] == n_i and r["workers"] == w), None)
                cells.append(f"{row['seconds']:.1f} ({row['seconds'] / n_i:.2f})" if row else "-")
            curve.add_row(str(n_i), *cells)
        console.print(curve)
    if result.get("overhead"):
        over = Table(title="sandbox overhead per worker: start + one request + close")
        for column in (
            "isolation",
            "worker",
            "first (wall s)",
            "median (wall s)",
            "CPU s per worker",
            "load",
        ):
            over.add_column(column)
        for row in result["overhead"]:
            cells = (f"{row['first_s']:.3f}", f"{row['median_s']:.3f}", f"{row['cpu_per_worker_s']:.3f}")
            over.add_row(row["isolation"], row["worker"], *cells, f"{row['load']:.1f}")
        console.print(over)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="students in the class (default 40)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="rnn-grader --workers values")
    parser.add_argument("--nbgrader-n", type=int, default=None, help="students for nbgrader (default: --n)")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--curve", type=int, nargs="*", default=[10, 20, 40], help="class sizes of the curve")
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--overhead-only", action="store_true", help="measure the sandbox overhead only")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the overhead measure")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "grade_class.json"))
    args = parser.parse_args()
    import torch

    result = {
        "n": args.n,
        "workers": args.workers,
        "cores": len(os.sched_getaffinity(0)),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "profile": "fast",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rnn_grader": [],
        "curve": [],
    }
    with tempfile.TemporaryDirectory(prefix="grade-class-") as tmp:
        tmp = Path(tmp)
        logs = Path(tempfile.gettempdir()) / "grade_class_logs"
        logs.mkdir(parents=True, exist_ok=True)
        if not args.skip_overhead:
            result["overhead"] = worker_overhead(args.repeat)
        if args.overhead_only:
            args.skip_nbgrader, args.skip_curve, args.workers = True, True, []
        sizes = sorted({args.n, *([] if args.skip_curve else args.curve)})
        courses = {}
        for n in sizes:
            courses[n] = tmp / f"course-{n}"
            courses[n].mkdir()
            result.setdefault("classes", {})[n] = build_course(courses[n], n)
        for n in sizes:
            for workers in args.workers:
                row = run_rnn_grader(courses[n], workers, tmp / f"records-{n}-{workers}", logs)
                row.update(n=n, workers=workers, per_min=throughput(row, n))
                result["curve"].append(row)
                if n == args.n:
                    result["rnn_grader"].append(row)
                print(f"rnn-grader N={n} workers={workers}: {row['seconds']:.1f} s", flush=True)
                save(result, args.out)  # after every run: a long bench keeps what it measured
        if not args.skip_nbgrader:
            n_nb = args.nbgrader_n or args.n
            course = tmp / "nbgrader-course"
            course.mkdir()
            students = [s for s, _ in build_course(course, n_nb)]
            nb = run_nbgrader(course, students, logs)
            nb.update(n=n_nb, per_min=throughput(nb, n_nb))
            result["nbgrader"] = nb
            print(f"nbgrader autograde N={n_nb}: {nb['seconds']:.1f} s", flush=True)
    if args.skip_curve:
        result["curve"] = []
    show(result)
    save(result, args.out)
    print(f"written to {args.out}")


def save(result: dict, out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
