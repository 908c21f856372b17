"""Warm workers: a sandboxed template that has imported torch forks a fresh worker per submission.

A cold worker is a fresh interpreter that imports torch (about 1.2 s) before it can run a
line of student code, once per submission and again after every worker a part kills. A
*template* pays that once per grading process: it starts exactly like a cold worker (same
bubblewrap namespaces, or none with ``isolation='rlimits'``), imports torch and the worker
code, does the warm-up that must precede the audit hook, and then only waits for the grader
on a control socket. For each worker the grader passes it a pair of pipes; the template
forks a child that

1. starts its own session and takes the pipes as its stdin and stdout (every other
   descriptor, the control socket included, is closed),
2. applies the per-worker resource limits and drops to the sandbox uid (when the grader is
   root), which also clears every capability,
3. redirects the student's output, installs the tripwires and the audit hook
   (:func:`grader.sandbox.limits.lock_down`) and serves the usual protocol.

A template is leased to one worker at a time. When its child ends, the template kills the
child's process group. Under bubblewrap every new worker, as the sandbox uid and before it
does anything else, kills any other process left in the sandbox and removes whatever earlier
workers wrote in the scratch folder, ``/tmp`` or ``/dev`` (without bubblewrap each worker has a
fresh scratch folder), so nothing passes from one student to the next. Control messages are
JSON; nothing is unpickled. Templates close when the grading process ends (end of file on the
control socket).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import asdict

from grader.sandbox import limits as _limits
from grader.sandbox import scratch as _scratch
from grader.sandbox.runner import (
    Sandbox,
    WorkerHandle,
    WorkerLost,
    _boot,
    _DeadlineReader,
    _launch,
    _link_grader,
    _suppress,
)

__all__ = ["WarmWorkerHandle", "close_templates", "template_main"]

_IDLE: dict[tuple, list[Template]] = {}
"""Templates not leased to a worker, by sandbox settings, in this grading process."""
_ALL: weakref.WeakSet[Template] = weakref.WeakSet()

_START_SECONDS = 180.0


class WarmWorkerHandle(WorkerHandle):
    """A worker forked from a warm template; the same interface and guarantees as a cold one."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.next_id = 0
        self.template = _checkout(sandbox)
        self.scratch = self.template.child_scratch()
        try:
            self.proc = self.template.spawn(sandbox.limits, self.scratch)
        except WorkerLost:
            self._release(clean=False)
            raise
        self.reader = _DeadlineReader(self.proc.stdout.fileno())

    def _lost(self) -> WorkerLost:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.proc.returncode is None:
            return WorkerLost(
                "error",
                "the sandbox template ended while the worker ran (a grader problem)" + self.boot_log(),
            )
        return super()._lost()

    def boot_log(self) -> str:
        return self.template.boot_log()

    def kill(self) -> None:
        self.proc.kill()
        with _suppress():
            self.proc.wait(timeout=10)

    def close(self) -> None:
        with _suppress():
            self.proc.stdin.close()
        with _suppress():
            self.proc.wait(timeout=2)
        if self.proc.returncode is None:
            self.kill()
        self.proc.stdout.close()
        self._release(clean=self.proc.returncode is not None)

    def _release(self, *, clean: bool) -> None:
        """Give the template back for the next worker only when this one is gone and cleaned up after."""
        if self.scratch:
            _scratch.remove(self.scratch)
        self.template.release(clean=clean)


# -- grader side ---------------------------------------------------------------------------------


def _key(sandbox: Sandbox) -> tuple:
    return (sandbox.isolation, sandbox.device, sandbox.threads, sandbox.slot, sandbox.limits.scratch_bytes)


def _checkout(sandbox: Sandbox) -> Template:
    idle = _IDLE.get(_key(sandbox), [])
    while idle:
        template = idle.pop()
        if template.usable():
            return template
        template.close()
    return Template(sandbox)


def close_templates() -> None:
    """Stop every idle template of this process (they also stop by themselves when it ends)."""
    for templates in list(_IDLE.values()):
        while templates:
            templates.pop().close()


def _forget_templates() -> None:
    """In a forked copy of a grading process: the templates belong to the parent; close our copies of
    their sockets (so that they still end with the parent) and never use them."""
    for template in list(_ALL):
        template.sock.close()
    _IDLE.clear()


atexit.register(close_templates)
os.register_at_fork(after_in_child=_forget_templates)


class Template:
    """The grader's end of one template process."""

    def __init__(self, sandbox: Sandbox):
        self.key, self.owner, self.broken = _key(sandbox), os.getpid(), False
        self.home = _scratch.make("template")
        launch = _launch(sandbox, link=lambda grader: _link_grader(self.home, grader), caps=("CAP_KILL",))
        self.child_uid = launch.uid if sandbox.isolation == "rlimits" else launch.config.get("drop_to_uid")
        self.namespace = sandbox.isolation == "bwrap"
        config = {
            **launch.config,
            "child_uid": self.child_uid,
            "drops_later": launch.drops_later,
            "namespace": self.namespace,
            "cuda": launch.cuda,
        }
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = _boot(launch.path_entry, "forkserver", "template_main")
        with theirs, open(os.path.join(self.home, "boot.log"), "wb") as log:
            self.proc = subprocess.Popen(
                launch.prefix + [sys.executable, "-S", "-s", "-B", "-c", boot, json.dumps(config)],
                stdin=theirs,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=self.home,
                env=launch.env,
                start_new_session=True,
                preexec_fn=_template_preexec,
            )
        _ALL.add(self)
        try:
            hello = self._receive_or_none(_START_SECONDS)
        except TimeoutError:
            hello = None
        if not (hello or {}).get("ready"):
            log = self.boot_log()
            self.close()
            raise WorkerLost("error", "the sandbox worker could not start" + log)

    def usable(self) -> bool:
        return not self.broken and self.owner == os.getpid() and self.proc.poll() is None

    def child_scratch(self) -> str | None:
        """Without bubblewrap, each worker gets a fresh scratch folder (under it, the template's /scratch)."""
        if self.namespace:
            return None
        path = _scratch.make("worker")
        if self.child_uid is not None:
            os.chown(path, self.child_uid, self.child_uid)
        return path

    def spawn(self, lim: _limits.WorkerLimits, scratch: str | None) -> _WarmChild:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        request = {
            "op": "spawn",
            "limits": asdict(lim),
            "scratch": scratch,
            "config": {"max_reply_bytes": lim.reply_bytes, "limits": _limits.breach_values(lim)},
        }
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], [req_r, rep_w])
            reply = self._receive_or_none(30)
        except (OSError, TimeoutError):
            reply = None
        finally:
            os.close(req_r)
            os.close(rep_w)
        if not reply or "spawned" not in reply:
            self.broken = True
            os.close(req_w)
            os.close(rep_r)
            raise WorkerLost(
                "error", f"the sandbox template could not fork a worker ({reply})" + self.boot_log()
            )
        return _WarmChild(self, reply["spawned"], req_w, rep_r)

    def send(self, message: dict) -> None:
        try:
            self.sock.send(json.dumps(message).encode())
        except OSError:
            self.broken = True

    def _receive_or_none(self, timeout: float) -> dict | None:
        """The template's next message; None when it has ended. TimeoutError after `timeout` seconds."""
        if not select.select([self.sock], [], [], max(timeout, 0))[0]:
            raise TimeoutError
        try:
            data = self.sock.recv(1 << 16)
        except OSError:
            data = b""
        if not data:
            self.broken = True
            return None
        return json.loads(data)

    def boot_log(self) -> str:
        try:
            with open(os.path.join(self.home, "boot.log"), "rb") as f:
                text = f.read().decode(errors="replace").strip()
        except OSError:
            return ""
        return f" [worker start-up log: {text[-800:]}]" if text else ""

    def release(self, *, clean: bool) -> None:
        if clean and self.usable():
            _IDLE.setdefault(self.key, []).append(self)
        else:
            self.close()

    def close(self) -> None:
        if self.owner != os.getpid():
            return
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with _suppress():
                os.killpg(self.proc.pid, signal.SIGKILL)
            with _suppress():
                self.proc.kill()
            with _suppress():
                self.proc.wait(timeout=10)
        _scratch.remove(self.home)
        _scratch.remove(self.home + "-path")


class _WarmChild:
    """What the handle needs of a ``Popen``, for a worker that is the template's child."""

    def __init__(self, template: Template, pid: int, req_w: int, rep_r: int):
        self.template, self.pid, self.returncode = template, pid, None
        self.stdin = os.fdopen(req_w, "wb")
        self.stdout = os.fdopen(rep_r, "rb", buffering=0)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = time.monotonic() + (1e9 if timeout is None else timeout)
        while self.returncode is None and not self.template.broken:
            try:
                message = self.template._receive_or_none(deadline - time.monotonic())
            except TimeoutError:
                raise subprocess.TimeoutExpired("sandbox worker", timeout) from None
            if message is not None and message.get("exited") == self.pid:
                self.returncode = message["code"]
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None and not self.template.broken:
            self.template.send({"op": "kill"})


def _template_preexec() -> None:
    import resource

    os.umask(0o022)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# -- template side (runs inside the sandbox; trusted code only) ----------------------------------


def template_main() -> None:
    """Entry point of the template process: warm up, then serve the grader's requests."""
    config = json.loads(sys.argv[1])
    control = socket.socket(fileno=os.dup(0))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    import ctypes  # noqa: F401  (loaded now: the child sets its parent-death signal with it)

    import grader.sandbox.worker  # noqa: F401

    _limits.warm_up(config)
    _TemplateLoop(control, config).serve()
    os._exit(0)


class _TemplateLoop:
    def __init__(self, control: socket.socket, config: dict):
        self.control, self.config, self.child = control, config, None
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, not SIG_IGN (which would reap for us)
        signal.set_wakeup_fd(wake_w)
        self.baseline = _baseline(("/tmp", "/dev", _limits.SCRATCH_MOUNT)) if config["namespace"] else set()
        self.send({"ready": True})

    def send(self, message: dict) -> None:
        self.control.send(json.dumps(message).encode())

    def serve(self) -> None:
        while True:
            readable = select.select([self.control, self.wake_r], [], [])[0]
            if self.wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_r, 4096)
                self.reap()
            if self.control in readable:
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 4)
                if not data:
                    self.kill_child()
                    return
                self.handle(json.loads(data), fds)

    def handle(self, request: dict, fds: list[int]) -> None:
        if request.get("op") == "spawn" and len(fds) == 2 and self.child is None:
            pid = os.fork()
            if pid == 0:
                self.become_worker(request, fds)
            self.child = pid
            self.send({"spawned": pid})
        elif request.get("op") == "kill":
            self.kill_child()
        else:
            self.send({"error": f"cannot {request.get('op')!r} now"})
        for fd in fds:
            os.close(fd)

    def kill_child(self) -> None:
        if self.child is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.child, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(self.child, signal.SIGKILL)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.child:
                self.child = None
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)  # what it left in its own process group
                self.send({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    def become_worker(self, request: dict, fds: list[int]) -> None:
        """In the forked child: take the pipes, apply the limits, drop the uid, lock down, serve."""
        code = 70
        try:
            template = os.getppid()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            os.dup2(fds[0], 0)
            os.dup2(fds[1], 1)
            os.closerange(3, os.sysconf("SC_OPEN_MAX"))
            # without bubblewrap: the worker's own folder, also its HOME and TMPDIR
            if request.get("scratch"):
                os.chdir(request["scratch"])
                os.environ.update(HOME=request["scratch"], TMPDIR=request["scratch"])
                tempfile.tempdir = None  # recomputed from TMPDIR
            limits = _limits.WorkerLimits(**request["limits"])
            _limits.preexec(
                limits,
                cuda=self.config["cuda"],
                uid=self.config["child_uid"],
                drops_later=self.config["drops_later"],
            )()
            _die_with(template)
            if self.config["namespace"]:  # without bubblewrap the scratch folder is new, the rest shared
                _clean_namespace(template, self.baseline)
            from grader.sandbox.worker import serve_forked

            serve_forked({**self.config, **request["config"], "drop_to_uid": None})
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)


def _die_with(template: int) -> None:
    """The worker gets SIGKILL if the template ends (set after the uid change, which clears it)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != template:
        os._exit(70)


def _baseline(roots: tuple[str, ...]) -> set[str]:
    """Every path under `roots` when the template starts (mount points, device nodes, links)."""
    return {path for root in roots for path in _walk(root)}


def _walk(root: str):
    """Paths under `root` on its own file system, parents first."""
    try:
        device = os.lstat(root).st_dev
    except OSError:
        return
    yield root
    for top, dirs, files in os.walk(root):
        kept = []
        for name in dirs:
            path = os.path.join(top, name)
            with contextlib.suppress(OSError):
                if os.lstat(path).st_dev == device:
                    kept.append(name)
                    yield path
        dirs[:] = kept
        yield from (os.path.join(top, name) for name in files)


def _clean_namespace(template: int, baseline: set[str]) -> None:
    """In a new worker, as the sandbox uid and before anything else: kill every other process of the
    sandbox but the template and init (what an earlier worker may have left), then remove everything
    earlier workers created in the writable places."""
    for _ in range(3):
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in (1, template, os.getpid()):
                with contextlib.suppress(OSError):
                    os.kill(int(entry), signal.SIGKILL)
    for root in ("/tmp", "/dev", _limits.SCRATCH_MOUNT):
        for path in list(_walk(root)):
            if path not in baseline and os.path.lexists(path):
                _remove(path)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        _scratch.remove(path)
        return
    with contextlib.suppress(OSError):
        os.unlink(path)
