"""Limits of the sandbox worker, from both sides of the boundary.

Parent side: the resource limits a worker starts with (:func:`preexec`) and the
bubblewrap command line that hides the file system, the network and other
processes (:func:`bwrap_command`).

Worker side (:func:`prepare_worker`, :func:`student_code`): after the worker has
imported what it needs and before any student code runs, an audit hook refuses
process creation, signals to other processes, sockets, loading native code, raising
limits, and file access outside the scratch directory and the interpreter's own
files; tripwires around the builtins the exercises replace record any call of
them. The hook is defence in depth, not the boundary: the verdict never depends on
anything the worker says about itself, only on the values it returns.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkerLimits", "breach_values", "bwrap_command", "preexec", "prepare_worker", "student_code"]

GRADER_MOUNT = "/opt/rnn-grader"
SCRATCH_MOUNT = "/scratch"


@dataclass(frozen=True)
class WorkerLimits:
    """Resource limits of one worker process. Every breach is reported with its value."""

    memory_bytes: int = 6 << 30
    """Address-space limit (RLIMIT_AS); not applied on CUDA, whose driver maps huge ranges."""
    cpu_seconds: int = 900
    """CPU time of the whole worker (RLIMIT_CPU)."""
    call_seconds: float = 20.0
    """Wall-clock deadline of one call into student code."""
    output_bytes: int = 16 << 20
    """Largest file the worker may write, its captured output included (RLIMIT_FSIZE)."""
    open_files: int = 256
    """Open file descriptors (RLIMIT_NOFILE)."""
    processes: int = 256
    """Threads and processes of the worker's user (RLIMIT_NPROC, effective when not root)."""
    reply_bytes: int = 64 << 20
    """Largest tensor payload of one reply."""
    scratch_bytes: int = 256 << 20
    """Size of the scratch file system under bubblewrap."""


def breach_values(limits: WorkerLimits) -> dict:
    """The limits a worker names when student code runs into one (see ``worker.limit_note``)."""
    return {"memory_mib": limits.memory_bytes >> 20, "output_bytes": limits.output_bytes,
            "open_files": limits.open_files, "processes": limits.processes}


def preexec(limits: WorkerLimits, *, cuda: bool, uid: int | None, drops_later: bool = False):
    """A ``preexec_fn`` that applies `limits` (and drops to `uid`) in the child before exec.

    `drops_later`: the worker itself will drop from root to its own uid inside the
    sandbox, so the process limit is set now for that fresh uid.
    """

    def _apply() -> None:
        import resource

        def cap(which: int, value: int) -> None:
            resource.setrlimit(which, (value, value))

        os.umask(0o022)  # bubblewrap creates mount points with this umask; the sandbox uid must traverse them
        if not cuda:
            cap(resource.RLIMIT_AS, limits.memory_bytes)
        # soft < hard: at the soft limit the kernel sends SIGXCPU (reported as the CPU limit); with
        # soft == hard it would send SIGKILL, which reads like the out-of-memory killer
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 2))
        cap(resource.RLIMIT_FSIZE, limits.output_bytes)
        cap(resource.RLIMIT_NOFILE, limits.open_files)
        cap(resource.RLIMIT_CORE, 0)
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        if drops_later:
            cap(resource.RLIMIT_NPROC, limits.processes)
        elif os.getuid() != 0:
            cap(resource.RLIMIT_NPROC, limits.processes + _processes_of(os.getuid()))

    return _apply


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


def python_roots() -> list[str]:
    """Directories the worker's interpreter needs: prefixes and site-packages."""
    import site
    import sysconfig

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["purelib"]}
    roots.update(site.getsitepackages())
    return sorted(str(Path(r).resolve()) for r in roots if Path(r).is_dir())


def site_paths() -> list[str]:
    """The parent's site-packages directories, for a worker started without the site module."""
    import site
    import sysconfig

    paths = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    return list(dict.fromkeys(p for p in paths if Path(p).is_dir()))


def world_traversable(path: str) -> bool:
    """Whether a user other than the owner can reach `path` (every ancestor has o+x)."""
    p = Path(path).resolve()
    return all(os.stat(a).st_mode & 0o001 for a in [p, *p.parents])


def bwrap_command(*, grader_dir: str, roots: list[str], cuda: bool, limits: WorkerLimits, as_root: bool,
                  caps: tuple[str, ...] = ()) -> list[str]:
    """The bubblewrap prefix: fresh mount, pid, net, ipc and uts namespaces, a read-only system.

    As root, bubblewrap needs no user namespace; the worker keeps only the capability to
    drop to its own unprivileged uid, which it does before anything else (`caps`: more
    capabilities for a process that stays root, such as the warm template's CAP_KILL; a
    process loses them all when it drops to its uid).
    """
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--clearenv"]
    if as_root:
        cmd += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        cmd += [x for cap in caps for x in ("--cap-add", cap)]
    else:
        cmd += ["--unshare-all"]
    cmd += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("lib", "lib64", "bin", "sbin", "lib32"):
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--proc", "/proc", "--tmpfs", "/tmp"]  # before the binds: a venv may live under /tmp
    made: set[str] = {"/", "/usr", "/etc", "/tmp"}
    for src, dest in [(r, r) for r in roots] + [(grader_dir, f"{GRADER_MOUNT}/grader")]:
        cmd += _parent_dirs(dest, made) + ["--ro-bind", src, dest]
    cmd += ["--perms", "1777", "--size", str(limits.scratch_bytes), "--tmpfs", SCRATCH_MOUNT,
            "--chdir", SCRATCH_MOUNT]
    if cuda:
        cmd += ["--dev-bind", "/dev", "/dev", "--ro-bind", "/sys", "/sys"]
    else:
        cmd += ["--dev", "/dev"]
    return cmd


def _parent_dirs(dest: str, made: set[str]) -> list[str]:
    """Create `dest`'s missing ancestors traversable (mode 0755) for the unprivileged sandbox uid."""
    out = []
    for parent in reversed(Path(dest).parents):
        if str(parent) not in made:
            made.add(str(parent))
            out += ["--perms", "0755", "--dir", str(parent)]
    return out


# -- worker side ---------------------------------------------------------------------------


class _State:
    enforcing = False
    recording = False
    called: set[str] = set()
    read_roots: tuple[str, ...] = ()
    write_roots: tuple[str, ...] = ()


FORBIDDEN_BUILTINS = {
    "torch.nn.functional.one_hot": ("torch.nn.functional", "one_hot"),
    "torch.nn.RNN": ("torch.nn", "RNN"),
    "torch.nn.RNNCell": ("torch.nn", "RNNCell"),
    "torch.rnn_tanh": ("torch", "rnn_tanh"),
    "torch.rnn_tanh_cell": ("torch", "rnn_tanh_cell"),
    "torch.nn.utils.clip_grad_norm_": ("torch.nn.utils", "clip_grad_norm_"),
    "torch.nn.utils.clip_grad_value_": ("torch.nn.utils", "clip_grad_value_"),
    "torch.nn.utils.clip_grads_with_norm_": ("torch.nn.utils", "clip_grads_with_norm_"),
    "torch.nn.utils.get_total_norm": ("torch.nn.utils", "get_total_norm"),
    "torch._C._nn.one_hot": ("torch._C._nn", "one_hot"),
    "torch._VF.rnn_tanh": ("torch._VF", "rnn_tanh"),
    "torch._VF.rnn_tanh_cell": ("torch._VF", "rnn_tanh_cell"),
    "torch.nn.utils.clip_grad._get_total_norm": ("torch.nn.utils.clip_grad", "_get_total_norm"),
    "torch.nn.utils.clip_grad._clip_grads_with_norm_": ("torch.nn.utils.clip_grad", "_clip_grads_with_norm_"),
}
"""Builtins that some part must not call, wrapped in the worker so a call is recorded."""

_BLOCKED_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.exec",
        "subprocess.Popen",
        "os.killpg",
        "signal.pthread_kill",
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.sendto",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.call_function",
        "resource.setrlimit",
        "resource.prlimit",
        "os.setuid",
        "os.setgid",
        "os.chroot",
    }
)
_PATH_WRITE_EVENTS = frozenset(
    {"os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.chmod", "os.chown", "os.symlink", "os.link",
     "os.truncate", "os.utime", "shutil.rmtree"}
)
_PATH_READ_EVENTS = frozenset({"os.listdir", "os.scandir", "glob.glob"})


def _cuda(config: dict) -> bool:
    return str(config.get("device", "cpu")).startswith("cuda")


def _warm_up(torch, *, backward: bool = True) -> None:
    """Run the kinds of operation the checks ask for once, on CPU and meta, so that PyTorch's
    lazy imports (some load native code) happen before the audit hook is installed."""
    for device in ("cpu", "meta"):
        try:  # best effort: an op this build lacks on meta is not our failure, but it goes to boot.log
            W = torch.normal(0.0, 0.01, size=(2, 2), device=device).requires_grad_(backward)
            X = torch.zeros(1, 2, device=device).scatter_(
                1, torch.zeros(1, 1, dtype=torch.long, device=device), 1
            )
            Y = torch.tanh(X @ W + torch.zeros(2, device=device)).sum()
            if backward:
                Y.backward()
            torch.einsum("bd,dh->bh", X, W.detach())
        except Exception as exc:
            print(f"warm-up on {device}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def drop_privileges(config: dict) -> None:
    """Inside the sandbox, leave root for the worker's own uid (first thing the worker does)."""
    uid = config.get("drop_to_uid")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def prepare_worker(config: dict) -> None:
    """Import what the worker needs, then lock it down before any student code runs."""
    warm_up(config)
    lock_down(config)


def warm_up(config: dict) -> None:
    """Import and exercise what the worker needs. Safe before a fork: CUDA is not initialised here,
    and on CUDA no autograd runs (its device threads would not survive a fork)."""
    import numpy  # noqa: F401
    import safetensors.torch  # noqa: F401
    import torch

    import grader.sandbox.doubles  # noqa: F401
    import grader.sandbox.protocol  # noqa: F401

    torch.set_num_threads(int(config.get("threads", 1)))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    _warm_up(torch, backward=not _cuda(config))


def lock_down(config: dict) -> None:
    """Initialise CUDA if asked (native loading is still allowed), then install the tripwires and the
    audit hook: the last step before any student code runs."""
    import torch

    if _cuda(config):
        torch.zeros(1, device=config["device"])
        _warm_up(torch, backward=True)
    _install_tripwires()
    _State.read_roots = tuple(config["read_roots"]) + ("/usr", "/lib", "/lib64", "/proc/self", "/dev/null",
                                                      "/dev/urandom", "/sys/devices/system/cpu")
    # under bubblewrap /tmp is the worker's own tmpfs; without it, it is the host's and stays out of reach
    _State.write_roots = (os.getcwd(),) if config.get("shared_tmp") else (os.getcwd(), "/tmp")
    _State.read_roots += _State.write_roots
    sys.addaudithook(_audit)
    _State.enforcing = True


@contextlib.contextmanager
def student_code(*, trusted: bool):
    """Run a block of student code; the yielded object's ``called`` lists forbidden builtins used."""
    _State.called = set()
    _State.recording = not trusted
    try:
        yield _State
    finally:
        _State.recording = False


def _install_tripwires() -> None:
    import importlib

    _meta_tolist_reads_values()
    for name, (module_name, attr) in FORBIDDEN_BUILTINS.items():
        module = _module(module_name)
        original = getattr(module, attr, None)
        if original is None:
            continue
        wrapped = (_wrap_class(original, name) if isinstance(original, type)
                   else _wrap_function(original, name))
        setattr(module, attr, wrapped)
        if module_name == "torch.nn.utils":
            clip_grad = importlib.import_module("torch.nn.utils.clip_grad")
            if getattr(clip_grad, attr, None) is original:
                setattr(clip_grad, attr, wrapped)


def _module(name: str):
    import importlib

    import torch

    return {"torch._C._nn": torch._C._nn, "torch._VF": torch._VF}.get(name) or importlib.import_module(name)


def _meta_tolist_reads_values() -> None:
    """On ``meta``, ``tolist()`` fails like ``item()`` (reading values), not like ``.cpu()`` (moving data)."""
    import torch

    original = torch.Tensor.tolist

    def tolist(self):
        if self.is_meta:
            raise RuntimeError("Tensor.tolist() cannot be called on meta tensors")
        return original(self)

    torch.Tensor.tolist = tolist


def _wrap_function(fn, name):
    def wrapper(*args, **kwargs):  # no functools.wraps: it would expose the original as __wrapped__
        if _State.recording:
            _State.called.add(name)
        return fn(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = getattr(fn, "__name__", "wrapper")
    wrapper.__doc__ = getattr(fn, "__doc__", None)
    return wrapper


def _wrap_class(cls, name):
    original_init = cls.__init__

    def __init__(self, *args, **kwargs):
        if _State.recording:
            _State.called.add(name)
        original_init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls


def _audit(event: str, args: tuple) -> None:
    if not _State.enforcing:
        return
    if event in _BLOCKED_EVENTS:
        raise PermissionError(f"the sandbox does not allow {event}")
    if event == "os.kill" and args and args[0] not in (0, os.getpid()):
        raise PermissionError("the sandbox does not allow signalling other processes")
    if event == "open":
        _check_open(args)
    elif event in _PATH_WRITE_EVENTS:
        _check_path(args[0] if args else None, _State.write_roots, "modify")
    elif event in _PATH_READ_EVENTS:
        _check_path(args[0] if args else ".", _State.read_roots, "list")


def _check_open(args: tuple) -> None:
    path, mode, flags = (list(args) + [None, None, None])[:3]
    writing = bool(mode and any(c in str(mode) for c in "wax+")) or bool(
        isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
    )
    _check_path(path, _State.write_roots if writing else _State.read_roots, "write" if writing else "read")


def _check_path(path, roots: tuple[str, ...], verb: str) -> None:
    if path is None or isinstance(path, int):
        return
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        raise PermissionError(f"the sandbox does not allow this path to {verb}") from None
    if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
        raise PermissionError(f"the sandbox does not allow {verb}ing {real}")
