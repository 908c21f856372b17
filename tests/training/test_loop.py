"""The grader's training loop: the book's semantics, its seeds, its failure modes, and the
reference passing the fast profile on 20 seeds it was not calibrated on."""

from __future__ import annotations

import math
import sys

import pytest
import torch
import torch.nn.functional as F

from grader.checks.oracles import clip_oracle
from grader.training.check import threshold_entry
from grader.training.loop import Model, TrainConfig, TrainingError, clip_global_norm_, train
from tests.helpers import ROOT

if str(ROOT) not in sys.path:  # solutions/ is not installed: it never ships
    sys.path.insert(0, str(ROOT))

from solutions import rnn_scratch as ref  # noqa: E402

TINY = TrainConfig(num_hiddens=8, num_steps=5, batch_size=4, lr=1.0, clipping_theta=1.0, num_epochs=2, seed=3)
CORPUS = torch.arange(200) % 7  # (200,) indices of a 7-character vocabulary


def reference() -> Model:
    return Model(ref.get_params, ref.init_rnn_state, ref.rnn)


def test_config_from_dict_validates_at_the_boundary():
    assert TrainConfig.from_dict(TINY.__dict__) == TINY
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainConfig.from_dict({**TINY.__dict__, "momentum": 0.9})
    with pytest.raises(ValueError, match="num_epochs=0 must be a positive integer"):
        TrainConfig.from_dict({**TINY.__dict__, "num_epochs": 0})


@pytest.mark.parametrize("scale", [1e-3, 1.0, 50.0])
def test_builtin_clipping_is_the_contract(scale):
    torch.manual_seed(0)
    params = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
    for p in params:
        p.grad = torch.randn_like(p) * scale
    expected, g = clip_oracle([p.grad for p in params], theta=1.0)
    before = [p.grad.clone() for p in params]
    clip_global_norm_(params, 1.0)
    for p, want, old in zip(params, expected, before, strict=True):
        if g <= 1.0:
            assert torch.equal(p.grad, old)  # bit for bit unchanged
        else:
            torch.testing.assert_close(p.grad, want, rtol=1e-6, atol=1e-7)


def test_same_seed_same_parameters_other_seed_others():
    first, second = train(reference(), CORPUS, 7, TINY, "cpu"), train(reference(), CORPUS, 7, TINY, "cpu")
    assert all(torch.equal(a, b) for a, b in zip(first.params, second.params, strict=True))
    assert first.curve == second.curve and len(first.curve) == TINY.num_epochs and first.nan_epoch is None
    other = train(reference(), CORPUS, 7, TrainConfig(**{**TINY.__dict__, "seed": 4}), "cpu")
    assert not torch.equal(first.params[0], other.params[0])


class Spy:
    """The reference rnn, recording the state each minibatch starts from and ends with."""

    def __init__(self):
        self.starts, self.ends = [], []

    def __call__(self, inputs, state, params):
        self.starts.append(state[0].clone())
        outputs, new = ref.rnn(inputs, state, params)
        self.ends.append(new[0].detach().clone())
        return outputs, new


@pytest.mark.parametrize("random_sampling", [True, False])
def test_state_is_fresh_per_random_minibatch_and_carried_detached_when_consecutive(random_sampling):
    spy = Spy()
    config = TrainConfig(**{**TINY.__dict__, "random_sampling": random_sampling, "num_epochs": 1})
    train(Model(ref.get_params, ref.init_rnn_state, spy), CORPUS, 7, config, "cpu")
    assert len(spy.starts) >= 3 and not spy.starts[0].any()
    for start, previous_end in zip(spy.starts[1:], spy.ends, strict=False):
        if random_sampling:
            assert not start.any()
        else:
            assert torch.equal(start, previous_end) and start.grad_fn is None


def test_loss_is_the_mean_cross_entropy_over_every_step():
    """One SGD step of the loop equals one step on the book's loss, by hand."""
    config = TrainConfig(**{**TINY.__dict__, "num_epochs": 1, "clipping_theta": 1e9, "batch_size": 39})
    trained = train(reference(), CORPUS, 7, config, "cpu").params  # (200-1)//5 = 39 windows: one minibatch
    torch.manual_seed(config.seed)
    params = ref.get_params(7, 8, 7, "cpu")
    order = torch.randperm(39, generator=torch.Generator().manual_seed(config.seed))
    X = torch.stack([CORPUS[i * 5 : i * 5 + 5] for i in order])  # (batch_size, num_steps)
    Y = torch.stack([CORPUS[i * 5 + 1 : i * 5 + 6] for i in order])
    outputs, _ = ref.rnn(ref.to_onehot(X, 7), ref.init_rnn_state(39, 8, "cpu"), params)
    F.cross_entropy(torch.cat(outputs), Y.T.reshape(-1)).backward()
    for p, got in zip(params, trained, strict=True):
        torch.testing.assert_close(got, (p - config.lr * p.grad).detach(), rtol=1e-5, atol=1e-6)


def test_nan_loss_stops_training_at_its_epoch():
    calls = []

    def poisoned(inputs, state, params):
        calls.append(1)
        outputs, new = ref.rnn(inputs, state, params)
        return [O + (math.nan if len(calls) > 20 else 0.0) for O in outputs], new

    result = train(
        Model(ref.get_params, ref.init_rnn_state, poisoned),
        CORPUS,
        7,
        TrainConfig(**{**TINY.__dict__, "num_epochs": 10}),
        "cpu",
    )
    per_epoch = (199 // 5) // 4  # 9 minibatches of 4 windows
    assert result.nan_epoch == 20 // per_epoch + 1 and len(result.curve) == result.nan_epoch - 1


def test_parameters_that_cannot_learn_are_refused_with_the_reason():
    def frozen(num_inputs, num_hiddens, num_outputs, device):
        return tuple(p.detach() for p in ref.get_params(num_inputs, num_hiddens, num_outputs, device))

    with pytest.raises(TrainingError, match="do not require grad"):
        train(Model(frozen, ref.init_rnn_state, ref.rnn), CORPUS, 7, TINY, "cpu")

    def non_leaf(num_inputs, num_hiddens, num_outputs, device):
        return tuple(p * 1.0 for p in ref.get_params(num_inputs, num_hiddens, num_outputs, device))

    with pytest.raises(TrainingError, match="not leaf tensors"):
        train(Model(non_leaf, ref.init_rnn_state, ref.rnn), CORPUS, 7, TINY, "cpu")

    def ignores_params(inputs, state, params):
        W = torch.zeros(7, 7, requires_grad=True)  # a weight of its own, not one of params
        return [X @ W for X in inputs], state

    with pytest.raises(TrainingError, match="no parameter received a gradient"):
        train(Model(ref.get_params, ref.init_rnn_state, ignores_params), CORPUS, 7, TINY, "cpu")


def test_end_to_end_uses_the_students_one_hot_and_clipping():
    used = set()

    def one_hot(x, n_class):
        used.add("one_hot")
        return ref.one_hot(x, n_class)

    def grad_clipping(params, theta, device):
        used.add("grad_clipping")
        ref.grad_clipping(params, theta, device)

    model = Model(ref.get_params, ref.init_rnn_state, ref.rnn, one_hot, grad_clipping)
    builtin = train(reference(), CORPUS, 7, TINY, "cpu")
    student = train(model, CORPUS, 7, TINY, "cpu")
    assert used == {"one_hot", "grad_clipping"}
    for a, b in zip(builtin.params, student.params, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("part", ["train_rnn", "train_rnn_2layer"])
def test_reference_passes_the_fast_profile_on_20_fresh_seeds(part):
    """Seeds 100..119: the calibration used 0..19, so this is out of sample."""
    from grader.training.calibrate import reference_runs

    entry = threshold_entry("fast", part)
    runs = reference_runs("fast", part, range(100, 120), workers=2)
    worst = max(r["perplexity"] for r in runs)
    assert all(r["nan_epoch"] is None for r in runs)
    assert worst <= entry["threshold"], [(r["seed"], round(r["perplexity"], 3)) for r in runs]
    assert entry["limit"] < entry["reference_mean"] < entry["threshold"] < entry["floor"]


def test_the_book_setting_learns_within_its_ci_threshold():
    """The real corpus (Jay Chou lyrics, 1,027 characters, 256 hidden units) at the book-ci epoch
    count: the reference, on a seed the calibration never used, reaches the threshold calibrated
    for that count (the full 250 epochs are the ``book`` profile: ``rnn-grader calibrate --profile book``)."""
    from grader.training.calibrate import reference_run

    entry = threshold_entry("book-ci", "train_rnn")
    run = reference_run("book-ci", "train_rnn", seed=100)
    assert run["nan_epoch"] is None
    assert run["perplexity"] <= entry["threshold"], (run["perplexity"], entry["threshold"])
    assert run["curve"][-1] < run["curve"][0] / 4  # it learned: the curve fell
