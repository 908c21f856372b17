"""The book's supporting pieces: the character vocabulary, the two minibatch samplers, perplexity.

Semantics follow d2l-zh v1 / Dive-into-DL-PyTorch section 6.3, with three deliberate
changes, each for reproducibility or correctness:

- the vocabulary is sorted (the book's ``list(set(chars))`` order changes with
  ``PYTHONHASHSEED``, so indices would differ from process to process);
- ``X`` and ``Y`` are int64 index tensors (the book returns float32; indices are
  what ``to_onehot`` takes);
- random sampling draws its order from an explicit generator (``random.Random`` or
  ``torch.Generator``) instead of the global ``random`` module, and ``device=None``
  means PyTorch's default device rather than "CUDA if there is one".
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

__all__ = ["Vocab", "data_iter_consecutive", "data_iter_random", "perplexity"]


@dataclass(frozen=True)
class Vocab:
    """A character vocabulary: index ``i`` stands for ``idx_to_char[i]``."""

    idx_to_char: tuple[str, ...]
    """The characters, in index order (sorted when built by :meth:`from_text`)."""
    char_to_idx: dict[str, int] = field(init=False, repr=False, compare=False)
    """The inverse map, derived from ``idx_to_char``."""

    def __post_init__(self) -> None:
        idx_to_char = tuple(self.idx_to_char)
        if not idx_to_char:
            raise ValueError("a Vocab needs at least one character; build it from a non-empty text")
        if len(set(idx_to_char)) != len(idx_to_char):
            raise ValueError(
                f"idx_to_char has repeated entries: {_repeats(idx_to_char)}; each must appear once"
            )
        object.__setattr__(self, "idx_to_char", idx_to_char)
        object.__setattr__(self, "char_to_idx", {char: i for i, char in enumerate(idx_to_char)})

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        """Return the vocabulary of ``text``: its distinct characters, sorted."""
        return cls(tuple(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.idx_to_char)

    def encode(self, text: Iterable[str]) -> list[int]:
        """Return the indices of the characters of ``text`` (the book's ``corpus_indices``)."""
        try:
            return [self.char_to_idx[char] for char in text]
        except KeyError as exc:
            raise ValueError(
                f"character {exc.args[0]!r} is not in the vocabulary of {len(self)} characters; "
                "build the Vocab from a text that contains it"
            ) from None

    def decode(self, indices: Iterable[int] | torch.Tensor) -> str:
        """Return the text whose indices are ``indices`` (ints or an integer tensor)."""
        if isinstance(indices, torch.Tensor):
            indices = indices.reshape(-1).tolist()
        chars = []
        for index in indices:
            if not 0 <= int(index) < len(self):
                raise ValueError(f"index {index} is outside the vocabulary (valid: 0 to {len(self) - 1})")
            chars.append(self.idx_to_char[int(index)])
        return "".join(chars)


def _repeats(items: Sequence[str]) -> list[str]:
    return sorted(item for item, count in Counter(items).items() if count > 1)


def _check_positive_int(name: str, value: object) -> int:
    """Validate a size argument at the boundary: ``batch_size=0 must be a positive integer``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return value


def _as_indices(corpus_indices: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Return the corpus as a 1-D int64 CPU tensor, or say why it cannot be one."""
    if isinstance(corpus_indices, torch.Tensor):
        if corpus_indices.dtype.is_floating_point or corpus_indices.dtype.is_complex:
            raise ValueError(
                f"corpus_indices has dtype {corpus_indices.dtype}; it must hold integer indices "
                "(encode the text with Vocab.encode)"
            )
        corpus = corpus_indices.detach().to("cpu", torch.int64)
    else:
        corpus = torch.tensor(list(corpus_indices), dtype=torch.int64)
    if corpus.dim() != 1:
        raise ValueError(f"corpus_indices must be 1-D, got shape {tuple(corpus.shape)}")
    return corpus


def _too_short(length: int, needed: int, formula: str, sampler: str) -> ValueError:
    return ValueError(
        f"the corpus has {length} indices, too short for even one batch of {sampler} sampling, "
        f"which needs {formula} = {needed}. Use a longer corpus, or a smaller batch_size or num_steps."
    )


def _shuffled(num_examples: int, generator: torch.Generator | random.Random | None) -> list[int]:
    """Return ``range(num_examples)`` in the order the generator draws."""
    if isinstance(generator, torch.Generator):
        return torch.randperm(num_examples, generator=generator).tolist()
    example_indices = list(range(num_examples))
    (generator if generator is not None else random).shuffle(example_indices)
    return example_indices


def data_iter_random(
    corpus_indices: Sequence[int] | torch.Tensor,
    batch_size: int,
    num_steps: int,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | random.Random | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield one epoch of random minibatches ``(X, Y)``, both int64 ``(batch_size, num_steps)``.

    The corpus is cut into ``num_examples = (len - 1) // num_steps`` examples starting at
    multiples of ``num_steps``; the generator shuffles them and each minibatch takes the
    next ``batch_size`` of them, so no example appears twice in an epoch and, when
    ``num_examples`` is a multiple of ``batch_size``, every one appears once (otherwise the
    book drops the ``num_examples % batch_size`` left over, a different set each epoch).
    ``Y`` is ``X`` shifted by one character.
    """
    batch_size = _check_positive_int("batch_size", batch_size)
    num_steps = _check_positive_int("num_steps", num_steps)
    corpus = _as_indices(corpus_indices)
    num_examples = (len(corpus) - 1) // num_steps  # -1: Y needs one more character than X
    epoch_size = num_examples // batch_size
    if epoch_size == 0:
        raise _too_short(len(corpus), batch_size * num_steps + 1, "batch_size * num_steps + 1", "random")
    example_indices = _shuffled(num_examples, generator)
    offsets = torch.arange(num_steps)
    for i in range(0, epoch_size * batch_size, batch_size):
        starts = torch.tensor(example_indices[i : i + batch_size]) * num_steps  # (batch_size,)
        positions = starts[:, None] + offsets  # (batch_size, num_steps)
        yield corpus[positions].to(device), corpus[positions + 1].to(device)


def data_iter_consecutive(
    corpus_indices: Sequence[int] | torch.Tensor,
    batch_size: int,
    num_steps: int,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | random.Random | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield one epoch of consecutive minibatches ``(X, Y)``, both int64 ``(batch_size, num_steps)``.

    The corpus is laid out as ``batch_size`` rows of ``batch_len = len // batch_size``
    characters; minibatch ``k`` is columns ``k*num_steps`` to ``(k+1)*num_steps``, so row
    ``i`` of minibatch ``k+1`` continues row ``i`` of minibatch ``k`` (the hidden state can
    be carried over). ``Y`` is ``X`` shifted by one character. ``generator`` is accepted
    for a signature shared with :func:`data_iter_random` and unused: the book's
    consecutive sampling has no random offset.
    """
    batch_size = _check_positive_int("batch_size", batch_size)
    num_steps = _check_positive_int("num_steps", num_steps)
    corpus = _as_indices(corpus_indices)
    batch_len = len(corpus) // batch_size
    epoch_size = (batch_len - 1) // num_steps
    if epoch_size <= 0:
        raise _too_short(
            len(corpus), batch_size * (num_steps + 1), "batch_size * (num_steps + 1)", "consecutive"
        )
    indices = corpus[: batch_size * batch_len].view(batch_size, batch_len)  # (batch_size, batch_len)
    for i in range(0, epoch_size * num_steps, num_steps):
        X = indices[:, i : i + num_steps]  # (batch_size, num_steps)
        Y = indices[:, i + 1 : i + num_steps + 1]  # (batch_size, num_steps)
        yield X.contiguous().to(device), Y.contiguous().to(device)


def perplexity(mean_cross_entropy: float) -> float:
    """Return ``exp`` of the mean per-character cross-entropy in nats (NaN stays NaN)."""
    value = float(mean_cross_entropy)
    if value < 0:
        raise ValueError(
            f"mean_cross_entropy={value!r} is negative; a cross-entropy in nats is >= 0 "
            "(pass the mean of -log p(next character), not a log-likelihood)"
        )
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf
