"""The sandbox worker: the only process that runs student code.

It reads requests from the channel on stdin and answers on the original stdout;
the student's own prints go to a capped file in the scratch directory. Everything
it sends is a description of values (see :mod:`grader.sandbox.protocol`); the
parent decides what they are worth. This module imports nothing from
``solutions/`` and never sees the hidden checks.
"""

from __future__ import annotations

import linecache
import os
import random
import sys
import time
import traceback

__all__ = ["main"]

_OUTPUT_FILE = "output.log"


class Worker:
    """The state of one worker: the student's namespace and the open channel."""

    def __init__(self, requests, replies, config: dict):
        self.requests = requests
        self.replies = replies
        self.config = config
        self.ns: dict = {"__name__": "__submission__", "__builtins__": __builtins__}
        self.doubles_cache: dict = {}

    def serve(self) -> None:
        from grader.sandbox.protocol import read_message, write_message

        while True:
            try:
                header, tensors = read_message(self.requests)
            except EOFError:
                return
            reply, out = self.dispatch(header, tensors)
            reply["id"] = header.get("id")
            write_message(self.replies, reply, out)

    def dispatch(self, header: dict, tensors: dict) -> tuple[dict, dict]:
        handler = {"exec": self.op_exec, "names": self.op_names, "call": self.op_call,
                   "train": self.op_train}.get(header.get("op"))
        if handler is None:
            return {"ok": False, "error": {"type": "ProtocolError", "message": "unknown op"}}, {}
        try:
            return handler(header, tensors)
        except BaseException as exc:  # the student's code may raise anything, SystemExit included
            error = describe(exc)
            error["message"] += limit_note(exc, self.config.get("limits") or {})
            return {"ok": False, "error": error}, {}

    def op_exec(self, header: dict, tensors: dict) -> tuple[dict, dict]:
        source, filename = header["source"], header["filename"]
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        from grader.sandbox import limits

        with limits.student_code(trusted=header.get("trusted", False)):
            exec(compile(source, filename, "exec"), self.ns)
        if header.get("trusted"):
            self.ns["device"] = _device(self.config["device"])
        return {"ok": True}, {}

    def op_names(self, header: dict, tensors: dict) -> tuple[dict, dict]:
        import inspect

        found = {}
        for name in header["names"]:
            obj = self.ns.get(name)
            if obj is None:
                continue
            try:
                sig = str(inspect.signature(obj)) if callable(obj) else None
            except (TypeError, ValueError):
                sig = None
            found[name] = {"callable": callable(obj), "signature": sig, "type": type(obj).__name__}
        return {"ok": True, "names": found}, {}

    def op_call(self, header: dict, tensors: dict) -> tuple[dict, dict]:
        from grader.sandbox import limits
        from grader.sandbox.protocol import Encoder

        args = [self.build(a, tensors) for a in header.get("args", [])]
        kwargs = {k: self.build(v, tensors) for k, v in header.get("kwargs", {}).items()}
        fn = self.ns[header["fn"]]
        saved = self.replace_globals(header.get("replace", {}))
        _seed(header.get("seed", 0))
        started = time.perf_counter()
        try:
            with limits.student_code(trusted=False) as tripwire:
                result = fn(*args, **kwargs)
                backward_error = self.backward(result, header.get("backward"), tensors)
        finally:
            self.ns.update(saved)
        seconds = time.perf_counter() - started
        enc = Encoder()
        reply = {
            "ok": True,
            "value": enc.encode(result),
            "args": enc.encode(args) if header.get("return_args") else None,
            "backward_error": backward_error,
            "forbidden": sorted(tripwire.called),
            "seconds": seconds,
        }
        return reply, self.check_size(enc.tensors)

    def op_train(self, header: dict, tensors: dict) -> tuple[dict, dict]:
        """Train the student's model with the grader's loop (see grader.training.loop)."""
        from grader.training import loop

        return loop.run_in_worker(self, header, tensors)

    def backward(self, result, spec, tensors) -> str | None:
        if spec is None:
            return None
        outs = _flat_tensors(result)
        cots = _flat_tensors(self.build(spec, tensors))
        if len(outs) != len(cots):
            return f"the result holds {len(outs)} tensors where {len(cots)} are expected"
        if not any(o.requires_grad for o in outs):
            return "no output depends on the inputs through autograd (no grad_fn)"
        loss = sum((o * c.to(o.dtype)).sum() for o, c in zip(outs, cots, strict=True) if o.requires_grad)
        loss.backward()
        return None

    def replace_globals(self, replace: dict) -> dict:
        from grader.sandbox import doubles

        saved = {name: self.ns[name] for name in replace if name in self.ns}
        for name, spec in replace.items():
            self.ns[name] = doubles.build(spec["name"], spec.get("config", {}), self.doubles_cache)
        return saved

    def build(self, spec, tensors):
        """Turn a request value into a real object on its device."""
        import torch

        kind = spec["k"]
        if kind == "tensor":
            return self.build_tensor(spec, tensors)
        if kind == "seq":
            items = [self.build(x, tensors) for x in spec["items"]]
            return tuple(items) if spec["cls"] == "tuple" else items
        if kind == "dict":
            return {self.build(k, tensors): self.build(v, tensors) for k, v in spec["items"]}
        if kind == "double":
            from grader.sandbox import doubles

            return doubles.build(spec["name"], spec.get("config", {}), self.doubles_cache)
        if kind == "dtype":
            return getattr(torch, spec["v"])
        if kind == "device":
            return torch.device(spec["v"])
        if kind == "int":
            return int(spec["v"])
        if kind == "float":
            return float(spec["v"])
        return None if kind == "none" else spec["v"]

    def build_tensor(self, spec, tensors):
        import torch

        dtype, device = getattr(torch, spec["dtype"]), spec["device"]
        if spec["data"] is None:
            t = torch.empty(spec["shape"], dtype=dtype, device=device)
        else:
            t = tensors[spec["data"]].to(device=device, dtype=dtype)
        if spec["requires_grad"]:
            t.requires_grad_(True)
        if spec.get("grad") is not None:
            t.grad = self.build_tensor(spec["grad"], tensors)
        return t

    def check_size(self, out: dict) -> dict:
        total = sum(t.numel() * t.element_size() for t in out.values())
        limit = self.config["max_reply_bytes"]
        if total > limit:
            raise MemoryError(f"the result holds {total} bytes of tensors, over the {limit}-byte reply limit")
        return out


def _flat_tensors(obj) -> list:
    import torch

    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple, torch.nn.ParameterList)):
        return [t for x in obj for t in _flat_tensors(x)]
    return []


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _device(name: str):
    import torch

    return torch.device(name)


def describe(exc: BaseException) -> dict:
    """A short, student-facing description of an exception from their code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith("<") and not f.filename.startswith(("<frozen", "<string"))]
    where = f"line {frames[-1].lineno} of {frames[-1].filename.strip('<>')}" if frames else ""
    line = (frames[-1].line or "").strip() if frames else ""
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"the code called exit({exc.code!r})"
    return {"type": type(exc).__name__, "message": message[:2000], "where": where, "line": line[:300]}


def limit_note(exc: BaseException, limits: dict) -> str:
    """Which sandbox limit an exception comes from, with its value; empty when none."""
    import errno

    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.EFBIG and "output_bytes" in limits:
        return f" (the sandbox's output limit is {limits['output_bytes']} bytes per file, output included)"
    if code in (errno.EMFILE, errno.ENFILE) and "open_files" in limits:
        return f" (the sandbox's limit is {limits['open_files']} open files)"
    if code == errno.EAGAIN and "fork" in text.lower() and "processes" in limits:
        return f" (the sandbox's limit is {limits['processes']} processes)"
    memory = isinstance(exc, MemoryError) or "allocate memory" in text or "out of memory" in text.lower()
    if memory and "reply limit" not in text and "memory_mib" in limits:
        return f" (the sandbox's memory limit is {limits['memory_mib']} MiB)"
    return ""


def _redirect_output() -> None:
    """Keep fd 0/1 for the channel; the student's stdin is empty, their output goes to a file."""
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the size limit, writes fail with EFBIG
    devnull = os.open(os.devnull, os.O_RDONLY)
    log = os.open(_OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    requests, replies = os.dup(0), os.dup(1)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)
    return os.fdopen(requests, "rb", buffering=0), os.fdopen(replies, "wb", buffering=0)


def main() -> None:
    import json

    config = json.loads(sys.argv[1])
    from grader.sandbox import limits

    limits.drop_privileges(config)
    requests, replies = _redirect_output()
    limits.prepare_worker(config)
    Worker(requests, replies, config).serve()
    os._exit(0)


def serve_forked(config: dict) -> None:
    """The worker's life in a child of the warm template (see :mod:`grader.sandbox.forkserver`):
    the imports and warm-up are inherited, the limits and the uid already applied; lock down, serve."""
    from grader.sandbox import limits

    requests, replies = _redirect_output()
    limits.lock_down(config)
    Worker(requests, replies, config).serve()
    os._exit(0)


if __name__ == "__main__":
    main()
