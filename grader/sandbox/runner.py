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
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import ProtocolError
from grader.sandbox import limits as _limits
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


@functools.lru_cache(maxsize=None)
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

    def __post_init__(self) -> None:
        if self.slot is None:
            self.slot = os.getpid() % 4000
        if self.isolation == "auto":
            self.isolation = "bwrap" if isolation_available() else "rlimits"
            if self.isolation == "rlimits":
                _warn_once()
        elif self.isolation == "bwrap" and not isolation_available():
            from grader.errors import ConfigError

            raise ConfigError("isolation='bwrap' was asked for, but bubblewrap is not usable here; "
                              "install it (apt-get install bubblewrap) or use isolation='rlimits'")

    def start(self) -> WorkerHandle:
        return WorkerHandle(self)


@functools.lru_cache(maxsize=None)
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
        self.scratch = tempfile.mkdtemp(prefix="rnn-grader-worker-")
        self.proc = self._spawn()
        self.reader = _DeadlineReader(self.proc.stdout.fileno())
        self.next_id = 0

    # -- start --------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen:
        sb = self.sandbox
        cuda = sb.device.startswith("cuda")
        grader_dir = str(Path(__file__).resolve().parents[1])
        roots = _limits.python_roots()
        config = {"device": sb.device, "threads": sb.threads, "max_reply_bytes": sb.limits.reply_bytes,
                  "limits": _limits.breach_values(sb.limits)}
        env = _worker_env(sb.threads)
        as_root = os.getuid() == 0
        if sb.isolation == "bwrap":
            prefix = _limits.bwrap_command(grader_dir=grader_dir, roots=roots, cuda=cuda, limits=sb.limits,
                                           as_root=as_root)
            prefix += [x for k, v in env.items() for x in ("--setenv", k, v)]
            path_entry, config["read_roots"] = _limits.GRADER_MOUNT, roots + [_limits.GRADER_MOUNT]
            uid, drops_later = None, as_root
            config["drop_to_uid"] = _SANDBOX_UID_BASE + sb.slot if as_root else None
        else:
            prefix, path_entry = [], self._link_grader(grader_dir)
            config["read_roots"] = roots + [grader_dir, path_entry]
            uid, drops_later = self._rlimits_uid(roots), False
            # /tmp is the host's here, with other graders' files in it: the worker gets only its scratch
            env.update(HOME=self.scratch, TMPDIR=self.scratch)
            config["shared_tmp"] = True
            if uid is not None:
                os.chown(self.scratch, uid, uid)
        # -S: no site module, so no .pth hooks (an editable install's finder would look into the
        # source tree); the worker's path is exactly the grader and the installed packages.
        paths = [path_entry] + _limits.site_paths()
        boot = f"import sys; sys.path[:0] = {paths!r}; from grader.sandbox.worker import main; main()"
        cmd = prefix + [sys.executable, "-S", "-s", "-B", "-c", boot, json.dumps(config)]
        return subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(os.path.join(self.scratch, "boot.log"), "wb"),
            cwd=self.scratch,
            env=env,
            start_new_session=True,
            preexec_fn=_limits.preexec(sb.limits, cuda=cuda, uid=uid, drops_later=drops_later),
        )

    def _rlimits_uid(self, roots: list[str]) -> int | None:
        """Without bubblewrap, root drops to its own uid when the interpreter is reachable by it."""
        if os.getuid() == 0 and all(_limits.world_traversable(r) for r in roots):
            return _SANDBOX_UID_BASE + self.sandbox.slot
        return None

    def _link_grader(self, grader_dir: str) -> str:
        entry = Path(self.scratch).parent / f"{Path(self.scratch).name}-path"
        entry.mkdir(exist_ok=True)
        link = entry / "grader"
        if not link.exists():
            link.symlink_to(grader_dir)
        self._extra_dir = str(entry)
        return str(entry)

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
            reply, payload = read_message(self.reader, Limits(max_payload_bytes=self.sandbox.limits.reply_bytes))
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
        shutil.rmtree(self.scratch, ignore_errors=True)
        if getattr(self, "_extra_dir", None):
            shutil.rmtree(self._extra_dir, ignore_errors=True)


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
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PYTHONHASHSEED": "0"}
    for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], (OSError, ProcessLookupError, subprocess.SubprocessError))
