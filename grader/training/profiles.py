"""Training profiles: which corpus, which hyperparameters, what text the verdict is measured on.

=============  ==============================================================================
profile        what it is
=============  ==============================================================================
``fast``       the default (CI, ``check``): text from the seeded order-2 Markov source of the
               manifest, whose entropy rate is known exactly. A model without recurrence cannot
               beat the bigram floor ``exp(H(X_t | X_{t-1}))`` (6.91); the reference gets near the
               limit (2.26 on 35-character windows); the threshold lies between the two.
``book``       the seed's setting: Jay Chou lyrics (first 10,000 characters, sorted vocabulary),
               256 hidden units, 35 steps, batch 32, lr 100, theta 0.01, 250 epochs, random
               sampling. Measured on the training text, as the book reports it (about 1.3).
``book-ci``    the ``book`` setting cut to 60 epochs, with its own calibrated threshold: the check
               CI can afford that the real corpus, its vocabulary and 256 hidden units learn.
``timemachine`` the second edition's corpus and setting (first 10,000 characters, 512 hidden
               units, lr 1, theta 1, 500 epochs, consecutive sampling), measured on the next
               10,000 characters (held out).
=============  ==============================================================================

A profile is data; :func:`load_data` turns it into index tensors (cached per process).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import torch

from grader.errors import ConfigError
from grader.training.data import Vocab
from grader.training.loop import TrainConfig

__all__ = ["PROFILES", "Profile", "ProfileData", "get_profile", "load_data"]


@dataclass(frozen=True)
class Profile:
    """One training setting, the same for every submission."""

    name: str
    about: str
    corpus: str
    """``markov`` (the synthetic source), ``jaychou_lyrics`` or ``timemachine``."""
    num_hiddens: int
    num_steps: int
    batch_size: int
    lr: float
    clipping_theta: float
    num_epochs: int
    random_sampling: bool
    train_chars: int
    """Characters of training text (the book's 10,000 for the real corpora)."""
    eval_on: str
    """``heldout`` (text the model never saw) or ``train`` (the book's figure is a training perplexity)."""
    eval_chars: int
    seconds: float
    """Time budget of one training run in the worker; over it, the part is a ``timeout``."""
    sample_prefix: str
    """The prefix of the greedy sample in the record."""

    def config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            num_hiddens=self.num_hiddens,
            num_steps=self.num_steps,
            batch_size=self.batch_size,
            lr=self.lr,
            clipping_theta=self.clipping_theta,
            num_epochs=self.num_epochs,
            random_sampling=self.random_sampling,
            seed=seed,
        )


PROFILES: dict[str, Profile] = {
    "fast": Profile(
        "fast",
        "synthetic order-2 Markov text with a known entropy rate (seconds on a CPU)",
        corpus="markov",
        num_hiddens=32,
        num_steps=35,
        batch_size=32,
        lr=20.0,
        clipping_theta=0.1,
        num_epochs=30,
        random_sampling=True,
        train_chars=10_000,
        eval_on="heldout",
        eval_chars=8_192,
        seconds=60.0,
        sample_prefix="abc",
    ),
    "book": Profile(
        "book",
        "the book's Jay Chou lyrics setting (d2l-zh v1, section 6.4)",
        corpus="jaychou_lyrics",
        num_hiddens=256,
        num_steps=35,
        batch_size=32,
        lr=100.0,
        clipping_theta=0.01,
        num_epochs=250,
        random_sampling=True,
        train_chars=10_000,
        eval_on="train",
        eval_chars=10_000,
        seconds=1800.0,
        sample_prefix="分开",
    ),
    "timemachine": Profile(
        "timemachine",
        "the second edition's Time Machine setting (d2l v2, section 9.5)",
        corpus="timemachine",
        num_hiddens=512,
        num_steps=35,
        batch_size=32,
        lr=1.0,
        clipping_theta=1.0,
        num_epochs=500,
        random_sampling=False,
        train_chars=10_000,
        eval_on="heldout",
        eval_chars=10_000,
        seconds=3600.0,
        sample_prefix="time traveller",
    ),
}
PROFILES["book-ci"] = replace(
    PROFILES["book"],
    name="book-ci",
    about="the book's setting cut to 60 epochs: proves in CI that the real-corpus pipeline learns",
    num_epochs=60,
    seconds=600.0,
)
"""Every profile, by name."""


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"profile={name!r} is not a training profile; use one of {sorted(PROFILES)}"
        ) from None


@dataclass(frozen=True)
class ProfileData:
    """A profile's texts as indices, and what is known about them."""

    vocab: Vocab
    train: torch.Tensor
    """1-D int64 training text."""
    eval: torch.Tensor
    """1-D int64 text the verdict is measured on."""
    limit: float | None = None
    """The lowest expected perplexity any model reaches on the evaluation windows, when known."""
    floor: float | None = None
    """The lowest expected perplexity of a model without recurrence, when known."""
    source: dict | None = None
    """A description of the corpus for the calibration file."""


@lru_cache(maxsize=8)
def load_data(profile: Profile, data_dir: str | None = None) -> ProfileData:
    """The texts of `profile` (the real corpora come from the data dir, the cache or their URL)."""
    if profile.corpus == "markov":
        return _markov_data(profile)
    from grader.training.corpora import load_jay_lyrics, load_time_machine

    if profile.corpus == "jaychou_lyrics":
        text = load_jay_lyrics(data_dir=data_dir)
    else:
        text = load_time_machine(data_dir=data_dir, max_tokens=profile.train_chars + profile.eval_chars)
    train_text = text[: profile.train_chars]
    vocab = Vocab.from_text(train_text)
    held = "".join(c for c in text[profile.train_chars :] if c in vocab.char_to_idx)[: profile.eval_chars]
    eval_text = held if profile.eval_on == "heldout" else train_text
    source = {
        "kind": profile.corpus,
        "train_chars": len(train_text),
        "eval_chars": len(eval_text),
        "eval_on": profile.eval_on,
        "vocab_size": len(vocab),
    }
    return ProfileData(vocab, _indices(vocab, train_text), _indices(vocab, eval_text), source=source)


def _markov_data(profile: Profile) -> ProfileData:
    from grader.training.markov import MarkovSource

    source = MarkovSource.default()
    vocab = Vocab.from_text(source.alphabet)
    if "".join(vocab.idx_to_char) != source.alphabet:
        raise ConfigError("the Markov source's alphabet must be sorted: its indices are the vocabulary's")
    train_text = source.sample(profile.train_chars, seed=1)
    eval_text = source.sample(profile.eval_chars, seed=2) if profile.eval_on == "heldout" else train_text
    T = profile.num_steps  # the first step of a window sees one character: the bigram entropy applies there
    limit = math.exp(((T - 1) * source.entropy_rate + source.bigram_entropy) / T)
    describe = {
        **source.describe(),
        "train_seed": 1,
        "eval_seed": 2,
        "train_chars": profile.train_chars,
        "eval_chars": profile.eval_chars,
        "eval_on": profile.eval_on,
    }
    return ProfileData(
        vocab,
        _indices(vocab, train_text),
        _indices(vocab, eval_text),
        limit=limit,
        floor=source.bigram_floor_perplexity,
        source=describe,
    )


def _indices(vocab: Vocab, text: str) -> torch.Tensor:
    return torch.tensor(vocab.encode(text), dtype=torch.int64)
