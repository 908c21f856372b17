"""The grading pipeline for one submission, as an ordered list of stages.

extract -> policy -> sandbox (load) -> checks -> scoring -> record. Student code
runs only in the sandbox worker; everything here is trusted. Whatever happens, the
result is a :class:`~grader.record.Record`.
"""

from __future__ import annotations

import datetime
import importlib.util
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.checks import CHECKS, CheckFailure, Context
from grader.checks.devices import meta_limitation, moved_off_device
from grader.exercises import SETUP_CODE, Assignment, assignment_for_parts, get_assignment
from grader.notebook.extract import Extracted, extract
from grader.notebook.policy import FORBIDDEN, check_policy
from grader.record import CheckResult, PartResult, Record
from grader.sandbox.limits import WorkerLimits
from grader.sandbox.runner import Sandbox, WorkerHandle, WorkerLost

__all__ = ["GradeOptions", "grade_submission", "load_hidden"]

DEFAULT_SEED = 20240601


@dataclass(frozen=True)
class GradeOptions:
    """How to grade; one frozen object per run (see :mod:`grader.settings`)."""

    seed: int = DEFAULT_SEED
    device: str = "cpu"
    isolation: str = "auto"
    max_examples: int = 40
    part_seconds: float = 120.0
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    hidden: object = None
    """The hidden-check module (instructor mode), or None."""
    slot: int | None = None
    profile: str = "fast"
    """The training profile of the training parts (issue 5; see grader.training.profiles)."""
    end_to_end: bool = False
    """Train with the student's one_hot and grad_clipping too, not the grader's (issue 5)."""
    training: bool = True
    """False: grade the exercise functions only, without the training parts (unit-level verdicts)."""
    parts: tuple[str, ...] | None = None
    """Grade only these parts (a grade cell's own part, see :mod:`grader.cell`); None: all of them."""
    warm: bool | None = None
    """Fork workers from a warm template (default: on CPU) or start a fresh interpreter each (issue 7)."""


def load_hidden(solutions_dir: str | Path | None):
    """Import ``solutions/hidden.py`` from the instructor's folder (trusted code), if there is one."""
    if solutions_dir is None:
        return None
    path = Path(solutions_dir) / "hidden.py"
    if not path.is_file():
        from grader.errors import ConfigError

        raise ConfigError(f"--solutions {solutions_dir}: no hidden.py there; "
                          "point it at the course's solutions/")
    spec = importlib.util.spec_from_file_location("rnn_grader_hidden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade_submission(path: str | Path, *, assignment: str | None = None,
                     options: GradeOptions = GradeOptions(), student: str | None = None) -> Record:
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    clock = time.monotonic()
    job = _Job(Path(path), options)
    try:
        job.run(assignment)
    except Exception as exc:  # a bug of ours: still leave a record, every unfinished part in error
        job.fail(f"the grader failed: {type(exc).__name__}: {exc} (please report this with the record)")
    return job.record(started, time.monotonic() - clock, student)


class _Job:
    """The state of grading one submission, stage by stage."""

    def __init__(self, path: Path, options: GradeOptions):
        self.path, self.options = path, options
        self.assignment: Assignment | None = None
        self.extracted: Extracted | None = None
        self.parts: dict[str, PartResult] = {}
        self.sandbox = Sandbox(limits=options.limits, device=options.device, isolation=options.isolation,
                               slot=options.slot, warm=options.warm)
        self.error: str | None = None

    def run(self, assignment: str | None) -> None:
        self.extracted = extract(self.path, _all_functions())
        self.assignment = (get_assignment(assignment) if assignment
                           else _guess_assignment(self.path, self.extracted))
        functions = self.assignment.functions
        if self.extracted.error:
            for name in functions + self._training_parts():  # issue 5: training parts too
                self._set(name, "missing", self.extracted.error)
            return
        for name, (status, message) in self.extracted.problems.items():
            if name in functions:
                self._set(name, status, message)
        for name, violation in check_policy(self.extracted.cells, SETUP_CODE, functions).items():
            self._set(name, "forbidden", violation.message)
        todo = [n for n in functions if n not in self.parts and self._wanted(n)]
        if todo or self._training_parts():
            with _Session(self.sandbox, self.extracted) as session:
                for name in todo:
                    self.parts[name] = session.grade_part(self.assignment.part(name).points, name,
                                                          self.options)
                self._train(session)

    # -- issue 5: the training parts, after the function parts, in the same worker --------------
    def _training_parts(self) -> tuple[str, ...]:
        if not self.options.training:
            return ()
        return tuple(p.name for p in self.assignment.parts if p.training and self._wanted(p.name))

    def _wanted(self, name: str) -> bool:
        return self.options.parts is None or name in self.options.parts

    def _train(self, session: _Session) -> None:
        from grader.training.check import grade_training

        for name in self._training_parts():
            self.parts[name] = grade_training(session, self.assignment.part(name), self.options)

    def _set(self, name: str, status: str, message: str) -> None:
        if not self._wanted(name):
            return
        points = self.assignment.part(name).points
        self.parts.setdefault(name, PartResult(name, 0.0, points, status, message))

    def fail(self, message: str) -> None:
        self.error = message
        if self.assignment is None:
            self.assignment = get_assignment("rnn_scratch")
        for part in self.assignment.parts:  # issue 5: training parts too, so max_score stays the assignment's
            self._set(part.name, "error", message)

    def record(self, started: str, seconds: float, student: str | None) -> Record:
        import torch

        from grader import __version__

        order = [p.name for p in self.assignment.parts if p.name in self.parts]
        parts = [self.parts[n] for n in order]
        return Record(
            submission=str(self.path), sha256=self.extracted.sha256 if self.extracted else "",
            assignment=self.assignment.name, score=round(sum(p.points for p in parts), 6),
            max_score=sum(p.max_points for p in parts), isolation=self.sandbox.isolation,
            device=self.options.device, seed=self.options.seed, grader_version=__version__,
            torch_version=torch.__version__, started=started,
            seconds=round(seconds, 3), parts=parts, student=student,
            mode="instructor" if self.options.hidden else "public", error=self.error,
        )


def _all_functions() -> tuple[str, ...]:
    from grader.exercises import ASSIGNMENTS

    return tuple(f for a in ASSIGNMENTS.values() for f in a.functions)


def _guess_assignment(path: Path, extracted: Extracted) -> Assignment:
    from grader.exercises import ASSIGNMENTS

    for name in ASSIGNMENTS:
        if name in path.stem or name in path.parts:
            return ASSIGNMENTS[name]
    present = set(_all_functions()) - set(extracted.problems)
    return assignment_for_parts(present) or ASSIGNMENTS["rnn_scratch"]


class _Session:
    """A worker with the submission loaded; restarted after a loss, skipping cells that killed it."""

    def __init__(self, sandbox: Sandbox, extracted: Extracted):
        self.sandbox, self.extracted = sandbox, extracted
        self.handle: WorkerHandle | None = None
        self.skipped: dict[str, str] = {}
        self.cell_errors: dict[str, str] = {}
        self.defined: dict = {}

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc) -> None:
        self.lost()

    def lost(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def worker(self) -> WorkerHandle:
        while self.handle is None:
            self.handle = self.sandbox.start()
            try:
                self._load(self.handle)
            except WorkerLost as exc:
                if exc.status == "boot":
                    raise
                self.lost()
        return self.handle

    def _load(self, handle: WorkerHandle) -> None:
        from grader.sandbox.runner import WorkerLost as Lost

        try:
            reply, _ = handle.request(
                {"op": "exec", "source": SETUP_CODE, "filename": "<setup>", "trusted": True}, timeout=180
            )
        except Lost as exc:
            raise Lost("boot", f"the sandbox worker could not start: {exc.message}") from None
        if not reply.get("ok"):
            raise Lost("boot", f"the notebook's setup code failed in the sandbox: {reply.get('error')}")
        for cell in self.extracted.cells:
            if cell.name in self.skipped:
                continue
            try:
                reply, _ = handle.request({"op": "exec", "source": cell.source, "filename": f"<{cell.name}>"},
                                          timeout=self.sandbox.limits.call_seconds)
            except Lost as exc:
                self.skipped[cell.name] = f"running the cell `{cell.name}` {exc.message}"
                raise
            if not reply.get("ok"):
                self.cell_errors[cell.name] = _error_text(reply.get("error") or {})
        reply, _ = handle.request({"op": "names", "names": list(_all_functions())}, timeout=30)
        self.defined = reply.get("names") or {}

    def grade_part(self, points: float, name: str, options: GradeOptions) -> PartResult:
        started = time.monotonic()
        try:
            self.worker()
        except WorkerLost as exc:
            return PartResult(name, 0.0, points, "error", exc.message)
        info = self.defined.get(name)
        if not isinstance(info, dict) or not info.get("callable"):
            return PartResult(name, 0.0, points, "missing", self._missing(name, info))
        checks, forbidden = _run_checks(self, name, options)
        return _score(name, points, checks, time.monotonic() - started, forbidden)

    def _missing(self, name: str, info) -> str:
        causes = [f"the cell `{c}` raised {e}" for c, e in self.cell_errors.items()]
        causes += list(self.skipped.values())
        if isinstance(info, dict):
            return f"`{name}` is a {info.get('type')}, not a function"
        text = f"`{name}` is not defined after running the answer cells"
        return text + (f" ({'; '.join(causes)[:500]})" if causes else "")


def _error_text(error: dict) -> str:
    where = f" at {error['where']}" if error.get("where") else ""
    return f"{error.get('type', 'an error')}: {str(error.get('message', ''))[:300]}{where}"


def _run_checks(session: _Session, name: str, options: GradeOptions) -> tuple[list[CheckResult], list[str]]:
    """Every check of a part, and the forbidden builtins its runs were seen calling."""
    results: list[CheckResult] = []
    seen: set[str] = set()
    lost: WorkerLost | None = None
    deadline_ctx = dict(part=name, seed=options.seed, device=options.device,
                        call_seconds=options.limits.call_seconds, part_seconds=options.part_seconds,
                        max_examples=options.max_examples, hidden=options.hidden, forbidden_seen=seen)
    for check in CHECKS[name]:
        if lost is not None:
            results.append(CheckResult(check.name, 0.0, check.points, lost.status,
                                       f"not run: {lost.message}"))
            continue
        try:
            ctx = Context(worker=session.worker(), **deadline_ctx)
            results.append(_run_one(ctx, check, options))
        except WorkerLost as exc:
            lost = exc
            session.lost()
            results.append(CheckResult(check.name, 0.0, check.points, exc.status, exc.message))
    return results, sorted(seen & FORBIDDEN.get(name, frozenset()))


def _run_one(ctx: Context, check, options: GradeOptions) -> CheckResult:
    try:
        check.run(ctx)
        hidden = getattr(options.hidden, "HIDDEN", {}).get((ctx.part, check.name)) if options.hidden else None
        if hidden is not None:
            try:
                hidden(ctx)
            except CheckFailure as failure:
                return CheckResult(check.name, 0.0, check.points, "failed",
                                   f"hidden check: {failure.message}", failure.counterexample, hidden=True)
        note = " ".join(ctx.notes)
        return CheckResult(check.name, check.points, check.points, "passed", note)
    except CheckFailure as failure:
        if check.name == "device" and meta_limitation(failure):
            note = ("not verified on the meta device because the code reads tensor values "
                    f"({failure.message[:160]}); it is verified when grading on CUDA")
            return CheckResult(check.name, check.points, check.points, "passed", note)
        failure = (check.name == "device" and moved_off_device(failure)) or failure
        return CheckResult(check.name, 0.0, check.points, "failed", failure.message, failure.counterexample)


_SEVERITY = {"passed": 0, "failed": 1, "timeout": 2, "error": 3, "forbidden": 4}


def _score(name: str, points: float, checks: list[CheckResult], seconds: float,
           forbidden: list[str]) -> PartResult:
    if forbidden:
        message = (f"called the builtin `{forbidden[0]}` while running (seen at run time); "
                   f"this exercise is to implement `{name}` without it")
        checks = [replace(c, points=0.0) for c in checks]
        return PartResult(name, 0.0, points, "forbidden", message, None, round(seconds, 3), checks)
    worst = max(checks, key=lambda c: _SEVERITY.get(c.status, 3))
    earned = round(sum(c.points for c in checks), 6)
    message = "" if worst.status == "passed" else f"{worst.name}: {worst.message}"
    counter = None if worst.status == "passed" else worst.counterexample
    return PartResult(name, earned, points, worst.status, message, counter, round(seconds, 3), checks)
