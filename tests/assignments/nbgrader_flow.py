"""The whole nbgrader workflow on a scratch course and exchange, step by step, timed.

    generate_assignment -> release_assignment -> (3 students) fetch_assignment, answer, submit
    -> collect -> nbgrader autograde -> generate_feedback -> rnn-grader grade --course
    -> nbgrader export, rnn-grader export -> release_feedback -> (3 students) fetch_feedback

Every command is the real CLI of this virtual environment, run as a subprocess with the
course's or the student's folder as its working directory. Each student has a folder and
an ``nbgrader_config.py`` of their own that names them (``CourseDirectory.student_id``:
``submit`` and ``fetch_feedback`` take the student id from there, else from the Unix user)
and keeps their own submission cache (``Exchange.cache``: ``fetch_feedback`` fetches the
feedback of every submission in it, as nbgrader expects one cache per user account); all
share one exchange. The three students:

- ``alice`` answers with the reference solutions;
- ``bob`` has one known bug (the fixture ``bug_rnn2_drops_whh2``);
- ``mallory`` has bob's bug, and an answer cell that replaces ``torch.allclose`` with an
  always-true function and writes to stderr.

Used by ``tests/assignments/test_nbgrader_e2e.py`` and ``bench/nbgrader_e2e.py``.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.exercises import get_assignment
from grader.notebook.patch import patched_source

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ASSIGNMENT = "rnn_deep"
COURSE_ID = "rnn-scratch"
HOSTILE_CELL = '''

import sys

torch.allclose = lambda *args, **kwargs: True  # every comparison made in this kernel now "passes"
sys.stderr.write("all good, nothing to see here\\n")
'''
STUDENTS = {
    "alice": "",
    "bob": (ROOT / "tests" / "submissions" / "bug_rnn2_drops_whh2" / "patch.py").read_text(encoding="utf-8"),
}
STUDENTS["mallory"] = STUDENTS["bob"]
HOSTILE = {"mallory"}


class StepFailed(RuntimeError):
    """A command of the workflow exited with an error; the message has its output."""


@dataclass
class Flow:
    """The scratch course's folders, and what each step took."""

    root: Path
    timings: dict[str, float] = field(default_factory=dict)
    """Step name -> wall-clock seconds (time.monotonic)."""
    cpu: dict[str, float] = field(default_factory=dict)
    """Step name -> CPU seconds of its commands and the children they waited for (user + system)."""
    outputs: dict[str, str] = field(default_factory=dict)
    """Step name -> the commands' stdout and stderr."""
    gradebook_after_autograde: dict[str, dict[str, float]] = field(default_factory=dict)
    nbgrader_feedback: dict[str, str] = field(default_factory=dict)
    """Student -> the page ``nbgrader generate_feedback`` wrote (before ours replaced it)."""

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def records(self) -> Path:
        return self.root / "records"

    def student_dir(self, student: str) -> Path:
        return self.root / "students" / student

    # -- running commands ------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RNN_GRADER_SOLUTIONS", "JPY_"))}
        env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
        env["JUPYTER_CONFIG_DIR"] = str(self.root / "jupyter" / "config")  # no user config leaks in
        env["JUPYTER_RUNTIME_DIR"] = str(self.root / "jupyter" / "runtime")
        env.setdefault("RNN_GRADER_DATA", str(ROOT.parent / "shared" / "datasets"))
        return env

    def run(self, cwd: Path, *command: str | Path) -> str:
        proc = subprocess.run([str(c) for c in command], cwd=cwd, env=self.env(), capture_output=True,
                              text=True, timeout=900)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise StepFailed(f"{' '.join(map(str, command))} exited {proc.returncode} in {cwd}:\n{output}")
        return output

    def step(self, name: str, *jobs: tuple) -> None:
        """Run `jobs` ((cwd, command...) each) at once, as one timed step."""
        started, cpu = time.monotonic(), _children_cpu()
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            outputs = list(pool.map(lambda job: self.run(*job), jobs))
        self.timings[name] = round(time.monotonic() - started, 3)
        self.cpu[name] = round(_children_cpu() - cpu, 3)
        self.outputs[name] = "\n".join(outputs)

    def nbgrader(self, cwd: Path, *args: str | Path) -> tuple:
        return (cwd, BIN / "nbgrader", *args)

    # -- the workflow ----------------------------------------------------------------------------

    def setup(self) -> None:
        """The course (source notebooks, the instructor's solutions/), the exchange, the students."""
        shutil.copytree(ROOT / "assignments" / "source" / ASSIGNMENT, self.course / "source" / ASSIGNMENT)
        shutil.copytree(ROOT / "solutions", self.course / "solutions",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for folder in ("exchange", "jupyter/config", "jupyter/runtime"):
            (self.root / folder).mkdir(parents=True)
        course = f"c.CourseDirectory.root = {str(self.course)!r}\nc.Execute.timeout = 300\n"
        self.write_config(self.course, course)
        for student in STUDENTS:
            self.student_dir(student).mkdir(parents=True)
            self.write_config(self.student_dir(student), f"c.CourseDirectory.student_id = {student!r}\n")

    def write_config(self, folder: Path, extra: str) -> None:
        text = (f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
                f"c.Exchange.root = {str(self.root / 'exchange')!r}\n"
                f"c.Exchange.cache = {str(folder / 'nbgrader_cache')!r}\n{extra}")
        (folder / "nbgrader_config.py").write_text(text, encoding="utf-8")

    def run_all(self) -> Flow:
        self.setup()
        self.step("generate_assignment", self.nbgrader(self.course, "generate_assignment", ASSIGNMENT))
        self.step("release_assignment", self.nbgrader(self.course, "release_assignment", ASSIGNMENT))
        self.step("fetch_assignment", *[self.nbgrader(self.student_dir(s), "fetch_assignment", ASSIGNMENT)
                                        for s in STUDENTS])
        self.answer_all()
        self.step("submit", *[self.nbgrader(self.student_dir(s), "submit", ASSIGNMENT) for s in STUDENTS])
        self.step("collect", self.nbgrader(self.course, "collect", ASSIGNMENT))
        self.step("autograde", self.nbgrader(self.course, "autograde", ASSIGNMENT))
        self.gradebook_after_autograde = self.gradebook()
        self.step("generate_feedback", self.nbgrader(self.course, "generate_feedback", ASSIGNMENT))
        self.nbgrader_feedback = {s: self.feedback_page(s).read_text(encoding="utf-8") for s in STUDENTS}
        self.step("rnn-grader grade --course", (
            self.course, BIN / "rnn-grader", "grade", "--course", self.course, "--assignment", ASSIGNMENT,
            "--out", self.records, "--solutions", self.course / "solutions", "--workers", "1"))
        self.step("nbgrader export", self.nbgrader(self.course, "export", "--to", self.root / "nbgrader.csv"))
        self.step("rnn-grader export", (self.course, BIN / "rnn-grader", "export", "--records", self.records,
                                        "--out", self.root / "grades.csv"))
        self.step("release_feedback", self.nbgrader(self.course, "release_feedback", ASSIGNMENT))
        self.step("fetch_feedback", *[self.nbgrader(self.student_dir(s), "fetch_feedback", ASSIGNMENT)
                                      for s in STUDENTS])
        return self

    # -- the students' answers -------------------------------------------------------------------

    def answer_all(self) -> None:
        started = time.monotonic()
        for student, patch in STUDENTS.items():
            path = self.student_dir(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            nb = nbformat.read(path, as_version=4)
            answer(nb, patch, hostile=student in HOSTILE)
            nbformat.write(nb, path)
        self.timings["students answer"] = round(time.monotonic() - started, 3)

    # -- reading the results ---------------------------------------------------------------------

    def gradebook(self) -> dict[str, dict[str, float]]:
        """``{student: {grade cell: score}}`` of the assignment, read through nbgrader's API."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}", COURSE_ID) as gb:
            notebooks = {s: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s) for s in STUDENTS}
            return {s: {g.name: g.score for g in nb.grades} for s, nb in notebooks.items()}

    def feedback_page(self, student: str) -> Path:
        return self.course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"

    def delivered(self, student: str) -> list[Path]:
        """The feedback pages ``fetch_feedback`` delivered to the student."""
        return sorted((self.student_dir(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))

    def autograded(self, student: str) -> nbformat.NotebookNode:
        path = self.course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        return nbformat.read(path, as_version=4)

    def csv_rows(self, name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((self.root / name).read_text(encoding="utf-8"))))

    def summary(self) -> dict:
        return {"assignment": ASSIGNMENT, "students": list(STUDENTS), "seconds": self.timings,
                "total_seconds": round(sum(self.timings.values()), 3), "cpu_seconds": self.cpu,
                "total_cpu_seconds": round(sum(self.cpu.values()), 3),
                "nbgrader_export_csv": (self.root / "nbgrader.csv").read_text(encoding="utf-8"),
                "rnn_grader_export_csv": (self.root / "grades.csv").read_text(encoding="utf-8")}

    def write_summary(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=1) + "\n", encoding="utf-8")
        return path


def answer(nb: nbformat.NotebookNode, patch: str, *, hostile: bool = False) -> None:
    """Fill the answer cells with the reference functions, `patch` applied; the hostile cell too."""
    functions = get_assignment(ASSIGNMENT).functions
    source = patched_source((ROOT / "solutions" / f"{ASSIGNMENT}.py").read_text(encoding="utf-8"), patch)
    tree = ast.parse(source)
    defs = {n.name: ast.get_source_segment(source, n) for n in tree.body if isinstance(n, ast.FunctionDef)}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in functions:
            cell.source = defs[grade_id]
    if hostile:
        first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == functions[0])
        first.source += HOSTILE_CELL


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def print_table(flow: Flow) -> None:
    width = max(map(len, flow.timings))
    print(f"{'step':<{width}}  {'wall':>9}  {'cpu':>9}")
    for name, seconds in flow.timings.items():
        cpu = f"{flow.cpu[name]:7.2f} s" if name in flow.cpu else "      - "
        print(f"{name:<{width}}  {seconds:7.2f} s  {cpu}")
    print(f"{'total':<{width}}  {sum(flow.timings.values()):7.2f} s  {sum(flow.cpu.values()):7.2f} s")
