"""Hypothesis strategies for the exercises' inputs.

Tensors come from ``hypothesis.extra.numpy.arrays``; only the exercise-specific
composites (index batches, parameter sets, gradient sets, scripted models) are
written here. Every strategy is keyword-only with ``min_*``/``max_*`` bounds whose
defaults cover the contract's edge cases: batch 1, one time step, vocabulary 1.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

__all__ = [
    "float_dtypes",
    "float_tensors",
    "gradient_sets",
    "index_dtypes",
    "index_vectors",
    "rnn_cases",
    "scripted_predictions",
    "sizes",
]

INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
FLOAT_DTYPES = (torch.float32, torch.float64)


def index_dtypes() -> st.SearchStrategy[torch.dtype]:
    return st.sampled_from(INDEX_DTYPES)


def float_dtypes() -> st.SearchStrategy[torch.dtype]:
    return st.sampled_from(FLOAT_DTYPES)


def sizes(*, min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[int]:
    return st.integers(min_size, max_size)


def float_tensors(shape: tuple[int, ...], dtype: torch.dtype, *, max_magnitude: float = 1.0):
    """Tensors of `shape` and `dtype` with finite values in [-max_magnitude, max_magnitude]."""
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    elements = st.floats(-max_magnitude, max_magnitude, width=32, allow_subnormal=False)
    return arrays(np_dtype, shape, elements=elements).map(lambda a: torch.from_numpy(a.copy()).to(dtype))


@st.composite
def index_vectors(draw, *, min_n: int = 1, max_n: int = 8, min_classes: int = 1, max_classes: int = 12):
    """``{"x": (n,) indices of some integer dtype, "n_class": int}``."""
    n_class = draw(st.integers(min_classes, max_classes))
    dtype = draw(index_dtypes())
    values = draw(st.lists(st.integers(0, min(n_class - 1, 127)), min_size=min_n, max_size=max_n))
    return {"x": torch.tensor(values, dtype=dtype), "n_class": n_class}


@st.composite
def index_matrices(draw, *, max_batch: int = 4, max_steps: int = 5, max_classes: int = 10):
    """``{"X": (batch_size, num_steps) int64 indices, "n_class": int}``."""
    n_class = draw(st.integers(1, max_classes))
    batch, steps = draw(sizes(max_size=max_batch)), draw(sizes(max_size=max_steps))
    values = draw(arrays(np.int64, (batch, steps), elements=st.integers(0, n_class - 1)))
    return {"X": torch.from_numpy(values.copy()), "n_class": n_class}


@st.composite
def rnn_cases(draw, *, layers: int = 1, max_batch: int = 3, max_steps: int = 4, max_size: int = 5):
    """Inputs, a non-zero initial state, parameters and output cotangents for an RNN forward."""
    dtype = draw(float_dtypes())
    batch, steps = draw(sizes(max_size=max_batch)), draw(sizes(max_size=max_steps))
    d, h, q = (draw(sizes(max_size=max_size)) for _ in range(3))
    t = lambda *shape: draw(float_tensors(shape, dtype))  # noqa: E731
    shapes = [(d, h), (h, h), (h,)] + ([(h, h), (h, h), (h,)] if layers == 2 else []) + [(h, q), (q,)]
    return {
        "inputs": [t(batch, d) for _ in range(steps)],
        "state": tuple(t(batch, h) for _ in range(layers)),
        "params": tuple(t(*s) for s in shapes),
        "_cotangent": ([t(batch, q) for _ in range(steps)], tuple(t(batch, h) for _ in range(layers))),
    }


@st.composite
def gradient_sets(draw, *, max_params: int = 4, max_dim: int = 4):
    """Parameters with gradients: ``{"params": [...], "grads": [...], "dtype": ...}``."""
    dtype = draw(float_dtypes())
    n = draw(st.integers(1, max_params))
    shapes = [tuple(draw(st.lists(sizes(max_size=max_dim), min_size=1, max_size=2))) for _ in range(n)]
    params = [draw(float_tensors(s, dtype)) for s in shapes]
    grads = [draw(float_tensors(s, dtype, max_magnitude=3.0)) for s in shapes]
    return {"params": params, "grads": grads}


CHARACTERS = "abcdefghijklmnopqrstuvwxyz 想要有直升机和你飞到宇宙去"


@st.composite
def scripted_predictions(draw, *, max_vocab: int = 8, max_prefix: int = 5, max_chars: int = 8):
    """A vocabulary, a prefix, num_chars and a scripted model's table for predict_rnn."""
    vocab_size = draw(st.integers(1, max_vocab))
    idx_to_char = draw(st.lists(st.sampled_from(CHARACTERS), min_size=vocab_size, max_size=vocab_size,
                                unique=True))
    prefix = draw(st.lists(st.integers(0, vocab_size - 1), min_size=1, max_size=max_prefix))
    config = {
        "vocab_size": vocab_size,
        "table": draw(st.lists(st.integers(0, vocab_size - 1), min_size=vocab_size, max_size=vocab_size)),
        "mult": draw(st.integers(1, max(vocab_size, 1))),
        "init": draw(st.integers(0, vocab_size - 1)),
    }
    return {
        "prefix": "".join(idx_to_char[i] for i in prefix),
        "num_chars": draw(st.integers(0, max_chars)),
        "num_hiddens": draw(st.integers(1, 4)),
        "idx_to_char": idx_to_char,
        "_config": config,
    }
