"""The Python API that the CLI, the pytest plugin and the grade cells are thin shells over."""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable
from pathlib import Path

from grader.engine import DEFAULT_SEED, GradeOptions, grade_submission, load_hidden
from grader.record import Record, write_record
from grader.sandbox.limits import WorkerLimits

__all__ = ["check_notebook", "grade_notebook", "grade_paths", "record_path", "submissions_in"]


def check_notebook(path: str | Path, *, assignment: str | None = None, device: str = "cpu",
                   seed: int = DEFAULT_SEED, isolation: str = "auto", profile: str = "fast",
                   end_to_end: bool = False, limits: WorkerLimits | None = None,
                   part_seconds: float | None = None) -> Record:
    """The student's check: public checks only, same engine and seeds as the instructor's.

    `limits` and `part_seconds` override the sandbox's defaults (see WorkerLimits, GradeOptions).
    """
    options = GradeOptions(seed=seed, device=device, isolation=isolation, profile=profile,
                           end_to_end=end_to_end, **_limit_options(limits, part_seconds))
    return grade_submission(path, assignment=assignment, options=options)


def grade_notebook(path: str | Path, *, out_dir: str | Path | None = None, assignment: str | None = None,
                   solutions: str | Path | None = None, device: str = "cpu", seed: int = DEFAULT_SEED,
                   isolation: str = "auto", student: str | None = None, profile: str = "fast",
                   end_to_end: bool = False, limits: WorkerLimits | None = None,
                   part_seconds: float | None = None) -> Record:
    """The instructor's grade of one submission: public + hidden checks; writes the record if `out_dir`."""
    options = GradeOptions(seed=seed, device=device, isolation=isolation, hidden=load_hidden(solutions),
                           profile=profile, end_to_end=end_to_end, **_limit_options(limits, part_seconds))
    record = grade_submission(path, assignment=assignment, options=options, student=student)
    if out_dir is not None:
        _store(record, out_dir)
    return record


def _store(record: Record, out_dir: str | Path) -> Path:
    """Write `record` into `out_dir`, its training plots first.

    The record is what marks the submission done.
    """
    where = record_path(out_dir, record)
    _write_plots(record, where)
    write_record(record, where)
    return where


def _write_plots(record: Record, where: Path) -> None:
    """The training curves as PNGs beside the record; a plot that cannot be drawn costs no record."""
    if not any(part.extras.get("curve") for part in record.parts):
        return
    import warnings

    from grader.training.check import write_plots

    try:
        write_plots(record, where)
    except Exception as exc:  # matplotlib missing or broken: the record (and its curve) is what counts
        warnings.warn(f"no training plot for {where.name}: {type(exc).__name__}: {exc}", RuntimeWarning,
                      stacklevel=2)


def _limit_options(limits: WorkerLimits | None, part_seconds: float | None) -> dict:
    """GradeOptions fields for the limits given; the defaults for those left out."""
    options: dict = {}
    if limits is not None:
        options["limits"] = limits
    if part_seconds is not None:
        options["part_seconds"] = float(part_seconds)
    return options


def record_path(out_dir: str | Path, record: Record) -> Path:
    who = record.student or Path(record.submission).stem
    return Path(out_dir) / f"{who}__{record.assignment}.json"


def submissions_in(paths: Iterable[str | Path]) -> list[tuple[Path, str | None]]:
    """Expand files and folders into (submission, student id or None), sorted.

    In an nbgrader ``submitted/<student>/<assignment>/`` tree the student id comes from the path.
    """
    found: list[tuple[Path, str | None]] = []
    for p in map(Path, paths):
        files = sorted(p.rglob("*.ipynb")) + sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            if ".ipynb_checkpoints" in f.parts:
                continue
            parts = f.parts
            student = parts[parts.index("submitted") + 1] if "submitted" in parts[:-2] else None
            found.append((f, student))
    return found


def grade_paths(paths: Iterable[str | Path], *, out_dir: str | Path, solutions: str | Path | None = None,
                device: str = "cpu", seed: int = DEFAULT_SEED, isolation: str = "auto",
                assignment: str | None = None, workers: int | None = None, progress: bool = False,
                profile: str = "fast", end_to_end: bool = False, scheduler: str | None = None,
                limits: WorkerLimits | None = None, part_seconds: float | None = None,
                on_record: Callable[[Record], None] | None = None) -> list[Record]:
    """Grade every submission under `paths`, one record each under `out_dir`, `workers` at a time.

    Records are written as each submission finishes; the returned list is in submission order.
    `scheduler`: a ``dask.distributed`` scheduler address, or ``"local"`` for a ``LocalCluster`` of
    `workers` processes, instead of the local process pool (see :mod:`grader.cluster`).
    """
    jobs = [dict(path=path, student=student, out_dir=out_dir, assignment=assignment, solutions=solutions,
                 device=device, seed=seed, isolation=isolation, profile=profile, end_to_end=end_to_end,
                 limits=limits, part_seconds=part_seconds)
            for path, student in submissions_in(paths)]
    done = _finished(out_dir, jobs)
    todo = [job for job in jobs if str(job["path"]) not in done]
    workers = max(1, min(workers or _usable_cores(), len(todo) or 1))
    with _Progress(len(todo), enabled=progress) as bar:
        if scheduler:  # issue 7
            from grader.cluster import run_on_dask

            graded = run_on_dask(todo, scheduler=scheduler, workers=workers, on_record=bar.advance)
        else:
            graded = _run_serial(todo, bar) if workers == 1 else _run_pool(todo, workers, bar)
        graded = _after_claims(todo, graded, bar)
    fresh = {str(job["path"]): record for job, record in zip(todo, graded, strict=True)}
    results = [done.get(str(job["path"])) or fresh[str(job["path"])] for job in jobs]
    for record in results:
        if on_record:
            on_record(record)
    return results


def _finished(out_dir: str | Path, jobs: list[dict], pattern: str = "*.json") -> dict[str, Record]:
    """Records already in `out_dir` for these exact submission bytes, grader version and options.

    An interrupted class run keeps every finished record (each is written atomically), so running
    the same command again grades only what is missing or changed.
    """
    import hashlib

    from grader import __version__
    from grader.record import load_record

    wanted = {str(job["path"]): job for job in jobs}
    done: dict[str, Record] = {}
    for path in sorted(Path(out_dir).glob(pattern)) if Path(out_dir).is_dir() else []:
        try:
            record = load_record(path)
        except (ValueError, KeyError, TypeError, OSError):
            continue  # unreadable or from another schema: grade again
        job = wanted.get(record.submission)
        if job is None or record.error or record.grader_version != __version__:
            continue
        same = (record.seed, record.device, record.mode) == (
            job["seed"], job["device"], "instructor" if job["solutions"] else "public")
        if same and record.sha256 == hashlib.sha256(Path(record.submission).read_bytes()).hexdigest():
            done[record.submission] = record
    return done


def _usable_cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _grade_job(job: dict, wait: bool = False) -> Record | None:
    """Grade one submission under its claim; None when another grader holds it (and `wait` is False).

    Two graders on one output folder never grade the same submission at once: the one that gets
    the claim grades it (or finds the record the other one finished meanwhile) and writes its record.
    """
    with _Claim(job["out_dir"], job["path"], wait=wait) as claim:
        if not claim.held:
            return None
        who = job.get("student") or Path(job["path"]).stem
        done = _finished(job["out_dir"], [job], pattern=f"{glob.escape(who)}__*.json")  # its own records only
        if str(job["path"]) in done:
            return done[str(job["path"])]
        claim.remove_stale_temporaries(glob.escape(who))
        return grade_notebook(**job)


def _after_claims(jobs: list[dict], graded: list[Record | None], bar) -> list[Record]:
    """Wait for the submissions another grader had claimed, and take (or make) their records."""
    out = []
    for job, record in zip(jobs, graded, strict=True):
        if record is None:
            record = _grade_job(job, wait=True)
            bar.advance(record)
        out.append(record)
    return out


class _Claim:
    """An exclusive claim on one submission in one output folder: ``fcntl.flock`` on a claim file.

    The kernel drops the lock when its owner dies (SIGKILL included), so a stale claim never blocks
    a re-run; the owner's pid is written into the file for people looking at the folder.
    """

    def __init__(self, out_dir: str | Path, submission: str | Path, *, wait: bool):
        import hashlib

        self.folder = Path(out_dir)
        key = hashlib.sha256(str(submission).encode()).hexdigest()[:24]
        self.path = self.folder / ".claims" / f"{key}.claim"
        self.wait, self.held, self.fd = wait, False, -1

    def __enter__(self) -> _Claim:
        import fcntl
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while not self.held:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return self
            if _same_file(fd, self.path):  # not a claim file its last owner removed while we waited
                self.fd, self.held = fd, True
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            else:
                os.close(fd)
        return self

    def remove_stale_temporaries(self, who: str) -> None:
        """Half-written records and plots of this submission left by a grader killed mid-write."""
        for tmp in [*self.folder.glob(f".{who}__*.json.*.tmp"), *self.folder.glob(f".{who}__*.png.partial")]:
            tmp.unlink(missing_ok=True)

    def __exit__(self, *exc) -> None:
        import os

        if self.held:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)  # closing drops the lock
            self.held = False


def _same_file(fd: int, path: Path) -> bool:
    import os

    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _run_serial(jobs: list[dict], bar) -> list[Record]:
    records = []
    for job in jobs:
        records.append(_grade_job(job))
        bar.advance(records[-1])
    return records


def _run_pool(jobs: list[dict], workers: int, bar) -> list[Record]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("forkserver")
    results: dict[int, Record] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_grade_job, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.advance(results[futures[future]])
    return [results[i] for i in range(len(jobs))]


class _Progress:
    """A rich progress bar with ETA and a count per part status; silent when disabled."""

    def __init__(self, total: int, *, enabled: bool):
        self.total, self.enabled = total, enabled
        self.counts: dict[str, int] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), TextColumn("{task.description}"))
            self.progress.start()
            self.task = self.progress.add_task("", total=self.total)
        return self

    def advance(self, record: Record | None) -> None:
        if record is None:  # claimed by another grader: counted when its record is taken
            return
        for part in record.parts:
            self.counts[part.status] = self.counts.get(part.status, 0) + 1
        if self.enabled:
            text = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
            self.progress.update(self.task, advance=1, description=text)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.progress.stop()
