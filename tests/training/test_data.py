"""The vocabulary, the two minibatch samplers and perplexity."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.training.data import Vocab, data_iter_consecutive, data_iter_random, perplexity

REPO = Path(__file__).resolve().parents[2]

# A corpus length, batch_size and num_steps with room for at least one batch of either sampler.
shapes = st.tuples(st.integers(1, 6), st.integers(1, 8)).flatmap(
    lambda bn: st.tuples(st.integers(bn[0] * (bn[1] + 1), 400), st.just(bn[0]), st.just(bn[1]))
)


def corpus_of(length: int) -> list[int]:
    """A corpus whose index at position p is p itself, so every value names its position."""
    return list(range(length))


# -- Vocab -----------------------------------------------------------------------------------------


def test_vocab_is_sorted_and_inverts():
    vocab = Vocab.from_text("hello world")
    assert vocab.idx_to_char == (" ", "d", "e", "h", "l", "o", "r", "w")
    assert len(vocab) == 8
    assert all(vocab.char_to_idx[c] == i for i, c in enumerate(vocab.idx_to_char))


@given(st.text(min_size=1, max_size=200))
def test_encode_decode_round_trip(text):
    vocab = Vocab.from_text(text)
    indices = vocab.encode(text)
    assert vocab.decode(indices) == text
    assert vocab.decode(torch.tensor(indices)) == text
    assert list(vocab.idx_to_char) == sorted(set(text))


def test_encode_names_the_unknown_character():
    with pytest.raises(ValueError, match=r"character 'z' is not in the vocabulary of 3 characters"):
        Vocab.from_text("abc").encode("abz")


def test_decode_rejects_an_index_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"index 3 is outside the vocabulary \(valid: 0 to 2\)"):
        Vocab.from_text("abc").decode([0, 3])


def test_vocab_rejects_repeats_and_emptiness():
    with pytest.raises(ValueError, match=r"repeated entries: \['a'\]"):
        Vocab(("a", "b", "a"))
    with pytest.raises(ValueError, match="at least one character"):
        Vocab.from_text("")


def test_vocab_is_frozen_and_hashable():
    vocab = Vocab.from_text("abc")
    with pytest.raises(AttributeError):
        vocab.idx_to_char = ("x",)
    assert vocab == Vocab.from_text("cba") and hash(vocab) == hash(Vocab.from_text("cab"))


def test_vocab_is_identical_across_hash_seeds():
    program = (
        "from grader.training.data import Vocab\n"
        "print(''.join(Vocab.from_text('想要有直升机 想要和你飞到宇宙去 the time machine').idx_to_char))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        result = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True, cwd=REPO
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


# -- random sampling -------------------------------------------------------------------------------


@given(shapes, st.integers(0, 2**32 - 1))
def test_random_sampling_uses_each_example_at_most_once_per_epoch(shape, seed):
    length, batch_size, num_steps = shape
    batches = list(data_iter_random(corpus_of(length), batch_size, num_steps, generator=random.Random(seed)))
    num_examples = (length - 1) // num_steps
    assert len(batches) == num_examples // batch_size
    starts = [int(s) for X, _ in batches for s in X[:, 0]]
    assert len(starts) == len(set(starts)) == len(batches) * batch_size
    assert {s % num_steps for s in starts} == {0}
    assert set(starts) <= set(range(0, num_examples * num_steps, num_steps))


@given(st.integers(1, 6), st.integers(1, 8), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_random_sampling_covers_every_position_once_when_examples_divide(batch_size, num_steps, epochs, seed):
    length = epochs * batch_size * num_steps + 1  # num_examples is a multiple of batch_size
    batches = data_iter_random(
        corpus_of(length), batch_size, num_steps, generator=torch.Generator().manual_seed(seed)
    )
    positions = sorted(int(p) for X, _ in batches for p in X.reshape(-1))
    assert positions == list(range(length - 1))


@given(shapes, st.integers(0, 2**32 - 1))
def test_random_sampling_shapes_dtype_and_shift(shape, seed):
    length, batch_size, num_steps = shape
    for X, Y in data_iter_random(corpus_of(length), batch_size, num_steps, generator=random.Random(seed)):
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert X.dtype == Y.dtype == torch.int64
        assert torch.equal(Y, X + 1)  # position p holds p: Y is X shifted by one character
        assert torch.equal(X[:, 1:], X[:, :-1] + 1)  # each example is a contiguous slice


@pytest.mark.parametrize("make", [lambda: random.Random(7), lambda: torch.Generator().manual_seed(7)])
def test_random_sampling_order_comes_from_the_generator(make):
    def epoch():
        return [X.tolist() for X, _ in data_iter_random(corpus_of(500), 4, 5, generator=make())]

    assert epoch() == epoch()
    assert epoch() != [
        X.tolist() for X, _ in data_iter_random(corpus_of(500), 4, 5, generator=random.Random(8))
    ]


# -- consecutive sampling --------------------------------------------------------------------------


@given(shapes)
def test_consecutive_sampling_is_contiguous_across_batches(shape):
    length, batch_size, num_steps = shape
    batches = list(data_iter_consecutive(corpus_of(length), batch_size, num_steps))
    batch_len = length // batch_size
    assert len(batches) == (batch_len - 1) // num_steps >= 1
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert X.dtype == Y.dtype == torch.int64
        assert torch.equal(Y, X + 1)
    rows = torch.cat([X for X, _ in batches], dim=1)  # row i of batch k+1 continues row i of batch k
    expected = torch.arange(batch_size)[:, None] * batch_len + torch.arange(rows.shape[1])
    assert torch.equal(rows, expected)


def test_consecutive_sampling_matches_the_book_example():
    batches = list(data_iter_consecutive(list(range(30)), 2, 6))
    assert [X.tolist() for X, _ in batches] == [
        [[0, 1, 2, 3, 4, 5], [15, 16, 17, 18, 19, 20]],
        [[6, 7, 8, 9, 10, 11], [21, 22, 23, 24, 25, 26]],
    ]


# -- both samplers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", [data_iter_random, data_iter_consecutive])
def test_samplers_accept_tensors_and_place_batches_on_the_device(sampler):
    X, Y = next(iter(sampler(torch.arange(100, dtype=torch.int32), 2, 5, device="meta")))
    assert X.device.type == Y.device.type == "meta"
    assert X.dtype == torch.int64 and X.shape == (2, 5)


@pytest.mark.parametrize(
    ("sampler", "needed", "formula"),
    [
        (data_iter_random, 33, r"batch_size \* num_steps \+ 1"),
        (data_iter_consecutive, 36, r"batch_size \* \(num_steps \+ 1\)"),
    ],
)
def test_short_corpus_error_says_what_is_needed(sampler, needed, formula):
    with pytest.raises(
        ValueError, match=rf"corpus has 20 indices.*needs {formula} = {needed}.*smaller batch_size"
    ):
        list(sampler(corpus_of(20), 4, 8))
    list(sampler(corpus_of(needed), 4, 8))  # exactly enough is enough


@pytest.mark.parametrize("sampler", [data_iter_random, data_iter_consecutive])
@pytest.mark.parametrize(
    ("name", "value"), [("batch_size", 0), ("num_steps", -3), ("batch_size", 2.0), ("num_steps", True)]
)
def test_samplers_validate_sizes(sampler, name, value):
    kwargs = {"batch_size": 2, "num_steps": 3, name: value}
    with pytest.raises(ValueError, match=rf"{name}={value!r} must be a positive integer"):
        list(sampler(corpus_of(100), **kwargs))


@pytest.mark.parametrize("sampler", [data_iter_random, data_iter_consecutive])
def test_samplers_reject_float_and_2d_corpora(sampler):
    with pytest.raises(ValueError, match="integer indices"):
        list(sampler(torch.zeros(100), 2, 3))
    with pytest.raises(ValueError, match="must be 1-D"):
        list(sampler(torch.zeros(10, 10, dtype=torch.int64), 2, 3))


# -- perplexity ------------------------------------------------------------------------------------


def test_perplexity_is_exp_of_the_mean_cross_entropy():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(28)) == pytest.approx(28)
    assert perplexity(torch.tensor(math.log(2.5)).item()) == pytest.approx(2.5)
    assert perplexity(1e6) == math.inf
    assert math.isnan(perplexity(math.nan))


def test_perplexity_rejects_a_negative_cross_entropy():
    with pytest.raises(ValueError, match="is negative"):
        perplexity(-0.5)
