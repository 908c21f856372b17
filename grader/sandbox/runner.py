"""Parent side of the sandbox: start a worker, talk to it with deadlines, restart it.

The parent never imports or runs student code. A worker that dies, hangs, sends
garbage or breaks a limit raises :class:`WorkerLost` for the request in flight; the
caller records the part and starts a fresh worker for the rest.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import ProtocolError
from grader.sandbox import limits as _limits
from grader.sandbox import scratch as _scratch
from grader.sandbox.protocol import Decoder, Limits, read_message, write_message

__all__ = ["Sandbox", "WorkerHandle", "WorkerLost", "isolation_available"]

_SANDBOX_UID_BASE = 61000
"""Workers run as uid BASE + slot when the grader is root, so each has its own process limit."""


class WorkerLost(BaseException):
    """The worker could not answer: it died, hung, broke a limit or broke the protocol.

    A BaseException so that hypothesis does not try to shrink it: the part stops at once.
    """

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@functools.cache
def isolation_available() -> bool:
    """Whether bubblewrap is on PATH and can create its namespaces here."""
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class Sandbox:
    """How workers are started: isolation, limits, device. One per grading run."""

    limits: _limits.WorkerLimits = field(default_factory=_limits.WorkerLimits)
    device: str = "cpu"
    isolation: str = "auto"
    """``auto`` (bubblewrap when it works), ``bwrap`` (required) or ``rlimits``."""
    threads: int = 1
    slot: int | None = None
    """Which parallel worker this is; picks the sandbox uid (default: from the grader's pid)."""
    warm: bool | None = None
    """Fork each worker from a template that has already imported torch (:mod:`grader.sandbox.forkserver`)
    instead of starting a fresh interpreter. Default (None): warm on CPU, a fresh interpreter on CUDA."""

    def __post_init__(self) -> None:
        if self.slot is None:
            self.slot = os.getpid() % 4000
        if self.warm is None:
            self.warm = not self.device.startswith("cuda")
        if self.isolation == "auto":
            self.isolation = "bwrap" if isolation_available() else "rlimits"
            if self.isolation == "rlimits":
                _warn_once()
        elif self.isolation == "bwrap" and not isolation_available():
            from grader.errors import ConfigError

            raise ConfigError("isolation='bwrap' was asked for, but bubblewrap is not usable here; "
                              "install it (apt-get install bubblewrap) or use isolation='rlimits'")

    def start(self) -> WorkerHandle:
        if self.warm:
            from grader.sandbox.forkserver import WarmWorkerHandle

            return WarmWorkerHandle(self)
        return WorkerHandle(self)


@functools.cache
def _warn_once() -> None:
    warnings.warn(
        "bubblewrap (bwrap) is not available: student code runs with resource limits and an audit "
        "hook only, without file-system, network and process namespaces (records say isolation='rlimits')",
        RuntimeWarning,
        stacklevel=3,
    )


class _DeadlineReader:
    """A file-like reader of the reply pipe that gives up at a deadline."""

    def __init__(self, fd: int):
        self.fd = fd
        self.deadline = float("inf")

    def read(self, n: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise TimeoutError
        return os.read(self.fd, min(n, 1 << 20))


class WorkerHandle:
    """One running worker process and its channel; a context manager that closes it."""

    def __enter__(self) -> WorkerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.scratch = _scratch.make("worker")
        self.proc = self._spawn()
        self.reader = _DeadlineReader(self.proc.stdout.fileno())
        self.next_id = 0

    # -- start --------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen:
        sb = self.sandbox
        launch = _launch(sb, link=self._link_grader)
        if launch.uid is not None:
            os.chown(self.scratch, launch.uid, launch.uid)
        # /tmp is the host's, with other graders' files: the worker gets its scratch
        if sb.isolation != "bwrap":
            launch.env.update(HOME=self.scratch, TMPDIR=self.scratch)
        boot = _boot(launch.path_entry, "worker", "main")
        cmd = launch.prefix + [sys.executable, "-S", "-s", "-B", "-c", boot, json.dumps(launch.config)]
        return subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(os.path.join(self.scratch, "boot.log"), "wb"),
            cwd=self.scratch,
            env=launch.env,
            start_new_session=True,
            preexec_fn=_limits.preexec(sb.limits, cuda=launch.cuda, uid=launch.uid,
                                       drops_later=launch.drops_later),
        )

    def _link_grader(self, grader_dir: str) -> str:
        self._extra_dir = _link_grader(self.scratch, grader_dir)
        return self._extra_dir

    # -- talk ---------------------------------------------------------------------------
    def request(self, header: dict, *, timeout: float, tensors: dict | None = None) -> tuple[dict, Decoder]:
        """Send one request; return the reply header and a decoder for its values."""
        self.next_id += 1
        header = {**header, "id": self.next_id}
        try:
            write_message(self.proc.stdin, header, tensors)
        except (BrokenPipeError, OSError):
            raise self._lost() from None
        self.reader.deadline = time.monotonic() + timeout
        try:
            reply, payload = read_message(self.reader,
                                          Limits(max_payload_bytes=self.sandbox.limits.reply_bytes))
        except TimeoutError:
            self.kill()
            raise WorkerLost("timeout", f"did not finish within the {timeout:g} s limit per call") from None
        except EOFError:
            raise self._lost() from None
        except ProtocolError as exc:
            self.kill()
            raise WorkerLost("error", f"sent a malformed reply: {exc}") from None
        if reply.get("id") != self.next_id:
            self.kill()
            raise WorkerLost("error", "sent a reply out of turn (the code wrote to the grader's channel)")
        return reply, Decoder(payload)

    def _lost(self) -> WorkerLost:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return WorkerLost("error", _exit_message(code, self.sandbox.limits) + self.boot_log())

    def boot_log(self) -> str:
        """What the worker printed before it ran any student code (start-up failures are ours)."""
        try:
            text = Path(self.scratch, "boot.log").read_text(errors="replace").strip()
        except OSError:
            return ""
        return f" [worker start-up log: {text[-800:]}]" if text else ""

    def kill(self) -> None:
        with _suppress():
            os.killpg(self.proc.pid, signal.SIGKILL)
        with _suppress():
            self.proc.kill()
        with _suppress():
            self.proc.wait(timeout=10)

    def close(self) -> None:
        with _suppress():
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        _scratch.remove(self.scratch)
        if getattr(self, "_extra_dir", None):
            _scratch.remove(self._extra_dir)


@dataclass
class _Launch:
    """How to start a sandboxed interpreter (a cold worker or a warm template)."""

    prefix: list[str]
    config: dict
    env: dict
    path_entry: str
    uid: int | None
    """Without bubblewrap, the uid the process runs as (None: the grader's)."""
    drops_later: bool
    """Under bubblewrap as root: the process drops to ``config['drop_to_uid']`` itself."""
    cuda: bool


def _launch(sb: Sandbox, *, link, caps: tuple[str, ...] = ()) -> _Launch:
    cuda = sb.device.startswith("cuda")
    grader_dir = str(Path(__file__).resolve().parents[1])
    roots = _limits.python_roots()
    config = {"device": sb.device, "threads": sb.threads, "max_reply_bytes": sb.limits.reply_bytes,
              "limits": _limits.breach_values(sb.limits)}
    env = _worker_env(sb.threads)
    as_root = os.getuid() == 0
    if sb.isolation == "bwrap":
        prefix = _limits.bwrap_command(grader_dir=grader_dir, roots=roots, cuda=cuda, limits=sb.limits,
                                       as_root=as_root, caps=caps if as_root else ())
        prefix += [x for k, v in env.items() for x in ("--setenv", k, v)]
        path_entry, config["read_roots"] = _limits.GRADER_MOUNT, roots + [_limits.GRADER_MOUNT]
        config["drop_to_uid"] = _SANDBOX_UID_BASE + sb.slot if as_root else None
        return _Launch(prefix, config, env, path_entry, None, as_root, cuda)
    path_entry = link(grader_dir)
    config["read_roots"] = roots + [grader_dir, path_entry]
    config["shared_tmp"] = True  # the host's /tmp: out of the worker's reach (write roots: its scratch only)
    return _Launch([], config, env, path_entry, _rlimits_uid(sb, roots), False, cuda)


def _boot(path_entry: str, module: str, function: str) -> str:
    """The ``-c`` program of a sandboxed interpreter.

    It runs with -S: no site module, so no .pth hooks (an editable install's finder would look into
    the source tree); its path is exactly the grader and the installed packages.
    """
    paths = [path_entry] + _limits.site_paths()
    entry = f"from grader.sandbox.{module} import {function}; {function}()"
    return f"import sys; sys.path[:0] = {paths!r}; {entry}"


def _rlimits_uid(sb: Sandbox, roots: list[str]) -> int | None:
    """Without bubblewrap, root drops to its own uid when the interpreter is reachable by it."""
    if os.getuid() == 0 and all(_limits.world_traversable(r) for r in roots):
        return _SANDBOX_UID_BASE + sb.slot
    return None


def _link_grader(next_to: str, grader_dir: str) -> str:
    """A folder holding only a ``grader`` link, for the worker's path (the source tree holds solutions/)."""
    entry = Path(next_to).parent / f"{Path(next_to).name}-path"
    entry.mkdir(exist_ok=True)
    link = entry / "grader"
    if not link.exists():
        link.symlink_to(grader_dir)
    return str(entry)


def _exit_message(code: int | None, lim: _limits.WorkerLimits) -> str:
    sig = -code if code is not None and code < 0 else (code - 128 if code and code > 128 else None)
    if sig == signal.SIGXCPU:
        return f"used more than the {lim.cpu_seconds} s CPU-time limit"
    if sig == signal.SIGXFSZ:
        return f"wrote more than the {lim.output_bytes} byte output limit"
    if sig == signal.SIGKILL:
        return f"was killed (out of memory: the limit is {lim.memory_bytes >> 20} MiB)"
    if sig is not None:
        return f"crashed with signal {signal.Signals(sig).name}"
    return f"ended the process (exit code {code}): the code called exit() or os._exit()"


def _worker_env(threads: int) -> dict:
    # USER/LOGNAME: the sandbox uid has no passwd entry, and getpass.getuser() (which some PyTorch
    # modules call while they import) fails without them.
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "USER": "sandbox", "LOGNAME": "sandbox",
           "LANG": "C.UTF-8", "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PYTHONHASHSEED": "0"}
    for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], (OSError, ProcessLookupError,
                                                          subprocess.SubprocessError))
