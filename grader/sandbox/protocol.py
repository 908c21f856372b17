"""The typed RPC between the trusted parent and the sandbox worker.

A message is two frames on a byte stream: an 8-byte little-endian length and a
UTF-8 JSON header, then an 8-byte length and a safetensors payload (possibly
empty) holding every tensor the header refers to by key. Nothing is pickled and
nothing is evaluated: the parent parses JSON and raw little-endian arrays, checks
every size against caps, and turns the worker's values into the plain records
below (:class:`TensorValue`, :class:`SeqValue`, :class:`ObjectValue`).

Values are encoded as small tagged dicts, ``{"k": kind, ...}``:

========  ===================================================================
kind      fields
========  ===================================================================
none      -
bool      v
int       v (decimal string, to survive any size)
float     v (a JSON number, or the strings "nan", "inf", "-inf")
str       v
seq       cls (``list``, ``tuple``, ``ParameterList``...), items
dict      items (a list of [key, value] pairs)
tensor    cls, dtype, shape, device, requires_grad, is_leaf, data (payload key
          or null for a meta tensor), grad (a tensor or null)
object    cls, repr: anything else, described but never rebuilt
double    name, config: a grader-side test double the worker builds (requests only)
========  ===================================================================
"""

from __future__ import annotations

import io
import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from grader.errors import ProtocolError

__all__ = [
    "DTYPES",
    "DoubleSpec",
    "Limits",
    "ObjectValue",
    "SeqValue",
    "TensorValue",
    "read_message",
    "write_message",
]

DTYPES = (
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "bool",
)
"""The tensor dtypes that may cross the boundary."""

_LEN = struct.Struct("<Q")


@dataclass(frozen=True)
class Limits:
    """Caps the reader applies to every message."""

    max_header_bytes: int = 4 << 20
    """Largest JSON header accepted."""
    max_payload_bytes: int = 256 << 20
    """Largest tensor payload accepted (the reply-size cap)."""
    max_depth: int = 32
    """Deepest nesting of sequences and dicts accepted."""
    max_items: int = 100_000
    """Most values in one message."""


@dataclass(frozen=True)
class TensorValue:
    """A tensor as the worker described it, rebuilt from raw arrays in the parent."""

    cls: str
    """The class name of the worker's object (``Tensor``, ``Parameter``, or a subclass's)."""
    dtype: str
    """A name from :data:`DTYPES`."""
    shape: tuple[int, ...]
    device: str
    """The device string, e.g. ``cpu``, ``cuda:0``, ``meta``."""
    requires_grad: bool
    is_leaf: bool
    data: Any = None
    """A CPU ``torch.Tensor`` with the values, or None for a meta tensor."""
    grad: TensorValue | None = None

    @property
    def device_type(self) -> str:
        return self.device.split(":", 1)[0]


@dataclass(frozen=True)
class SeqValue:
    """A list, tuple or other sequence returned by the worker."""

    cls: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class ObjectValue:
    """Any other object: only its class name and a truncated repr cross the boundary."""

    cls: str
    repr: str


@dataclass(frozen=True)
class DoubleSpec:
    """A request for the worker to build one of the grader's test doubles."""

    name: str
    config: dict = field(default_factory=dict)


# -- framing -------------------------------------------------------------------------------


def write_message(stream: BinaryIO, header: dict, tensors: dict | None = None) -> None:
    """Write one message: the JSON header and the safetensors payload of `tensors`."""
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    payload = _save_tensors(tensors) if tensors else b""
    stream.write(_LEN.pack(len(head)) + head + _LEN.pack(len(payload)) + payload)
    stream.flush()


def read_message(stream: BinaryIO, limits: Limits = Limits()) -> tuple[dict, dict]:
    """Read one message; returns the header and the payload's tensors by key."""
    head = _read_frame(stream, limits.max_header_bytes, "header")
    payload = _read_frame(stream, limits.max_payload_bytes, "payload")
    try:
        header = json.loads(head, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"the worker sent a header that is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ProtocolError("the worker sent a header that is not a JSON object")
    return header, _load_tensors(payload) if payload else {}


def _read_frame(stream: BinaryIO, cap: int, what: str) -> bytes:
    size = _LEN.unpack(_read_exactly(stream, _LEN.size, what))[0]
    if size > cap:
        raise ProtocolError(f"the worker sent a {what} of {size} bytes, over the {cap}-byte limit")
    return _read_exactly(stream, size, what)


def _read_exactly(stream: BinaryIO, n: int, what: str) -> bytes:
    buf = io.BytesIO()
    while buf.tell() < n:
        chunk = stream.read(n - buf.tell())
        if not chunk:
            raise EOFError(f"the worker closed the channel in the middle of a {what}")
        buf.write(chunk)
    return buf.getvalue()


def _reject_constant(name: str) -> None:
    raise ValueError(f"bare {name} is not allowed")


def _save_tensors(tensors: dict) -> bytes:
    from safetensors.torch import save

    return save(tensors)


def _load_tensors(payload: bytes) -> dict:
    from safetensors.torch import load

    try:
        return load(payload)
    except Exception as exc:  # safetensors raises its own error types for malformed input
        raise ProtocolError(f"the worker sent a malformed tensor payload ({exc})") from None


# -- encoding (both sides) -----------------------------------------------------------------


class Encoder:
    """Turns Python values into tagged JSON plus a dict of tensors for the payload."""

    def __init__(self, *, max_depth: int = 32, max_repr: int = 200, device: str | None = None):
        self.tensors: dict = {}
        self.device = device
        """When set, CPU tensors are described as living there (the worker puts them there)."""
        self.max_depth = max_depth
        self.max_repr = max_repr

    def encode(self, obj: Any, depth: int = 0) -> dict:
        import torch

        if depth > self.max_depth:
            return {"k": "object", "cls": type(obj).__name__, "repr": "<nested too deeply>"}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return _encode_scalar(obj)
        if isinstance(obj, DoubleSpec):
            return {"k": "double", "name": obj.name, "config": obj.config}
        if isinstance(obj, torch.dtype):
            return {"k": "dtype", "v": str(obj).removeprefix("torch.")}
        if isinstance(obj, torch.device):
            return {"k": "device", "v": str(obj)}
        if isinstance(obj, torch.Tensor):
            return self._tensor(obj, depth)
        if isinstance(obj, (list, tuple, torch.nn.ParameterList)):
            items = [self.encode(x, depth + 1) for x in obj]
            return {"k": "seq", "cls": type(obj).__name__, "items": items}
        if isinstance(obj, dict):
            pairs = [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()]
            return {"k": "dict", "items": pairs}
        return {"k": "object", "cls": type(obj).__name__, "repr": _safe_repr(obj, self.max_repr)}

    def _tensor(self, t: Any, depth: int) -> dict:
        """Describe a tensor from PyTorch's own C accessors, so a subclass cannot override what it reports."""
        import torch

        base = torch._C.TensorBase
        with torch._C.DisableTorchFunctionSubclass():
            device, dtype = base.device.__get__(t), base.dtype.__get__(t)
            requires_grad, is_leaf = base.requires_grad.__get__(t), base.is_leaf.__get__(t)
            shape, grad = tuple(base.shape.__get__(t)), base.grad.__get__(t) if is_leaf else None
            dtype_name = str(dtype).removeprefix("torch.")
            if dtype_name not in DTYPES:
                return {"k": "object", "cls": f"Tensor[{dtype_name}]",
                        "repr": "<tensor of an unsupported dtype>"}
            spec = {
                "k": "tensor",
                "cls": type(t).__name__,
                "dtype": dtype_name,
                "shape": list(shape),
                "device": self.device if self.device and device.type == "cpu" else str(device),
                "requires_grad": bool(requires_grad),
                "is_leaf": bool(is_leaf),
                "data": None,
                "grad": None,
            }
            if device.type != "meta":
                key = f"t{len(self.tensors)}"
                plain = torch.Tensor._make_subclass(torch.Tensor, base.detach(t))
                self.tensors[key] = plain.to("cpu").contiguous().clone()
                spec["data"] = key
        if isinstance(grad, torch.Tensor):
            spec["grad"] = self._tensor(grad, depth + 1)
        return spec


def _encode_scalar(obj: Any) -> dict:
    if obj is None:
        return {"k": "none"}
    if isinstance(obj, bool):
        return {"k": "bool", "v": obj}
    if isinstance(obj, int):
        return {"k": "int", "v": _int_text(obj)}
    if isinstance(obj, float):
        return {"k": "float", "v": obj if math.isfinite(obj) else repr(obj)}
    return {"k": "str", "v": obj[:100_000]}


def _int_text(n: int) -> str:
    try:
        return str(n)
    except ValueError:  # more digits than the interpreter converts
        return "<an integer too large to print>"


def _safe_repr(obj: Any, limit: int) -> str:
    try:
        text = object.__repr__(obj)
    except Exception:  # an object hostile enough to break object.__repr__
        text = "<unprintable>"
    return text[:limit]


# -- decoding (parent side: into plain records; worker side: into tensors) ------------------


class Decoder:
    """Parses a tagged value strictly into plain records, checking every field."""

    def __init__(self, tensors: dict, limits: Limits = Limits()):
        self.tensors = tensors
        self.limits = limits
        self.count = 0

    def decode(self, spec: Any, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_items or depth > self.limits.max_depth:
            raise ProtocolError("the worker sent a value nested too deeply or with too many items")
        kind = _field(spec, "k", str)
        handler = _DECODERS.get(kind)
        if handler is None:
            raise ProtocolError(f"the worker sent a value of unknown kind {kind!r}")
        return handler(self, spec, depth)

    def _seq(self, spec: dict, depth: int) -> SeqValue:
        items = _field(spec, "items", list)
        return SeqValue(_field(spec, "cls", str)[:100], tuple(self.decode(x, depth + 1) for x in items))

    def _dict(self, spec: dict, depth: int) -> dict:
        out = {}
        for pair in _field(spec, "items", list):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ProtocolError("the worker sent a malformed dict item")
            key = self.decode(pair[0], depth + 1)
            out[key if isinstance(key, (str, int, float, bool, type(None))) else repr(key)] = self.decode(
                pair[1], depth + 1
            )
        return out

    def _tensor(self, spec: dict, depth: int) -> TensorValue:
        dtype = _field(spec, "dtype", str)
        shape = _field(spec, "shape", list)
        if dtype not in DTYPES or not all(isinstance(n, int) and 0 <= n < 2**40 for n in shape):
            raise ProtocolError(f"the worker described a tensor with dtype {dtype!r} and shape {shape!r}")
        data = self._tensor_data(spec.get("data"), dtype, tuple(shape))
        grad = spec.get("grad")
        return TensorValue(
            cls=_field(spec, "cls", str)[:100],
            dtype=dtype,
            shape=tuple(shape),
            device=_field(spec, "device", str)[:40],
            requires_grad=bool(_field(spec, "requires_grad", bool)),
            is_leaf=bool(_field(spec, "is_leaf", bool)),
            data=data,
            grad=None if grad is None else self._tensor(grad, depth + 1),
        )

    def _tensor_data(self, key: Any, dtype: str, shape: tuple[int, ...]) -> Any:
        if key is None:
            return None
        tensor = self.tensors.get(key) if isinstance(key, str) else None
        if tensor is None:
            raise ProtocolError(f"the worker referred to a tensor {key!r} that is not in its payload")
        if str(tensor.dtype).removeprefix("torch.") != dtype or tuple(tensor.shape) != shape:
            raise ProtocolError("the worker's tensor payload does not match its description")
        return tensor


def _field(spec: Any, name: str, typ: type) -> Any:
    if not isinstance(spec, dict) or not isinstance(spec.get(name), typ):
        raise ProtocolError(f"the worker sent a value without a valid {name!r} field")
    return spec[name]


def _decode_float(spec: dict) -> float:
    v = spec.get("v")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if v in ("nan", "inf", "-inf"):
        return float(v)
    raise ProtocolError("the worker sent a malformed float")


def _decode_int(spec: dict) -> int | str:
    text = _field(spec, "v", str)
    return int(text) if text.lstrip("-").isdigit() and len(text) < 4000 else text


_DECODERS = {
    "none": lambda d, s, depth: None,
    "bool": lambda d, s, depth: bool(_field(s, "v", bool)),
    "int": lambda d, s, depth: _decode_int(s),
    "float": lambda d, s, depth: _decode_float(s),
    "str": lambda d, s, depth: _field(s, "v", str),
    "seq": Decoder._seq,
    "dict": Decoder._dict,
    "tensor": Decoder._tensor,
    "dtype": lambda d, s, depth: ObjectValue("dtype", "torch." + _field(s, "v", str)[:40]),
    "device": lambda d, s, depth: ObjectValue("device", _field(s, "v", str)[:40]),
    "object": lambda d, s, depth: ObjectValue(_field(s, "cls", str)[:100], _field(s, "repr", str)[:1000]),
}
