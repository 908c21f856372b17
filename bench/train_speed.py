"""Seconds per epoch of the training check on the book's setting, against the seed's loop and the floor.

    python bench/train_speed.py [--device cpu|cuda] [--threads 1] [--epochs 3] [--data-dir DIR]

Three figures, one run, same model functions (the reference ``get_params`` / ``init_rnn_state``
/ ``rnn``), the book's setting (Jay Chou lyrics, 256 hidden units, 35 steps, batch 32, lr 100,
theta 0.01, random sampling):

- the grader's loop, :func:`grader.training.loop.train`;
- the seed's own loop, the book's ``train_and_predict_rnn`` with its ``data_iter_random``,
  ``to_onehot``, ``grad_clipping`` and ``sgd``, copied below as the book prints them;
- the model alone: the reference's forward, loss and backward on ready one-hot batches, without
  sampling, clipping or the update; what any loop must pay for this ``rnn`` (autograd's per-step
  overhead of the student's function included), so ``grader / model alone`` is the loop's own cost;
- the compute floor: the matrix-multiply FLOPs of one epoch (forward and backward) divided by
  the throughput this machine measures on the same matrix shapes (``floor``), and on one large
  square product (``peak floor``, the optimistic bound).

Prints a table and writes ``bench/results/train_speed-<device>-<threads>thread.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from grader.training.data import data_iter_random  # noqa: E402
from grader.training.loop import Model, train  # noqa: E402
from grader.training.profiles import get_profile, load_data  # noqa: E402
from solutions import rnn_scratch as ref  # noqa: E402

# -- the seed's code (Dive-into-DL-PyTorch, section 6.4 and d2lzh_pytorch), as printed -----------


def book_data_iter_random(corpus_indices, batch_size, num_steps, device=None):
    num_examples = (len(corpus_indices) - 1) // num_steps
    epoch_size = num_examples // batch_size
    example_indices = list(range(num_examples))
    random.shuffle(example_indices)

    def _data(pos):
        return corpus_indices[pos : pos + num_steps]

    for i in range(epoch_size):
        i = i * batch_size
        batch_indices = example_indices[i : i + batch_size]
        X = [_data(j * num_steps) for j in batch_indices]
        Y = [_data(j * num_steps + 1) for j in batch_indices]
        yield (
            torch.tensor(X, dtype=torch.float32, device=device),
            torch.tensor(Y, dtype=torch.float32, device=device),
        )


def book_one_hot(x, n_class, dtype=torch.float32):
    x = x.long()
    res = torch.zeros(x.shape[0], n_class, dtype=dtype, device=x.device)
    res.scatter_(1, x.view(-1, 1), 1)
    return res


def book_to_onehot(X, n_class):
    return [book_one_hot(X[:, i], n_class) for i in range(X.shape[1])]


def book_grad_clipping(params, theta, device):
    norm = torch.tensor([0.0], device=device)
    for param in params:
        norm += (param.grad.data**2).sum()
    norm = norm.sqrt().item()
    if norm > theta:
        for param in params:
            param.grad.data *= theta / norm


def book_sgd(params, lr, batch_size):
    for param in params:
        param.data -= lr * param.grad / batch_size


def book_train(
    rnn,
    get_params,
    init_rnn_state,
    num_hiddens,
    vocab_size,
    device,
    corpus_indices,
    num_epochs,
    num_steps,
    lr,
    clipping_theta,
    batch_size,
):
    """``train_and_predict_rnn`` with random sampling, without the prediction printout."""
    params = get_params()
    loss = nn.CrossEntropyLoss()
    for _epoch in range(num_epochs):
        l_sum, n = 0.0, 0
        for X, Y in book_data_iter_random(corpus_indices, batch_size, num_steps, device):
            state = init_rnn_state(batch_size, num_hiddens, device)
            inputs = book_to_onehot(X, vocab_size)
            (outputs, state) = rnn(inputs, state, params)
            outputs = torch.cat(outputs, dim=0)
            y = torch.transpose(Y, 0, 1).contiguous().view(-1)
            l = loss(outputs, y.long())  # noqa: E741 (the book's name)
            if params[0].grad is not None:
                for param in params:
                    param.grad.data.zero_()
            l.backward()
            book_grad_clipping(params, clipping_theta, device)
            book_sgd(params, lr, 1)
            l_sum += l.item() * y.shape[0]
            n += y.shape[0]
    return params


# -- measurements ------------------------------------------------------------------------------


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def per_epoch(run, epochs: int, device: str) -> float:
    """Seconds per epoch of `run(num_epochs)`, after a one-epoch warm-up."""
    run(1)
    _sync(device)
    start = time.perf_counter()
    run(epochs)
    _sync(device)
    return (time.perf_counter() - start) / epochs


def interleaved(runs, epochs: int, rounds: int, device: str) -> list[float]:
    """Seconds per epoch of each run: the best of `rounds` rounds that time every run in turn.

    Taking turns and the minimum keeps the ratios of one run honest on a shared machine: a burst
    of load elsewhere slows one round of everything, not one contestant.
    """
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            best[i] = min(best[i], per_epoch(run, epochs, device))
    return best


def step_matmuls(B: int, V: int, h: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product of one time step, forward and backward."""
    forward = [(B, V, h), (B, h, h), (B, h, V)]  # X W_xh, H W_hh, H W_hq
    backward = [(V, B, h), (h, B, h), (B, h, h), (h, B, V), (B, V, h)]  # dW_xh, dW_hh, dH, dW_hq, dH
    return forward + backward


def flops_per_epoch(B: int, V: int, h: int, num_steps: int, batches: int) -> float:
    return 2.0 * sum(m * k * n for m, k, n in step_matmuls(B, V, h)) * num_steps * batches


def matmul_seconds(shapes, device: str, repeat: int = 200) -> float:
    """Seconds for one pass over `shapes` (the fastest of `repeat` timed passes: a floor)."""
    mats = [(torch.randn(m, k, device=device), torch.randn(k, n, device=device)) for m, k, n in shapes]
    times = []
    for _ in range(repeat):
        _sync(device)
        start = time.perf_counter()
        for a, b in mats:
            a @ b
        _sync(device)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_flops(device: str, n: int = 2048) -> float:
    seconds = matmul_seconds([(n, n, n)], device, repeat=10)
    return 2.0 * n**3 / seconds


def measure(device: str, epochs: int, threads: int, data_dir: str | None, rounds: int = 3) -> dict:
    torch.set_num_threads(threads)
    profile = get_profile("book")
    data = load_data(profile, data_dir)
    V, h, B, T = len(data.vocab), profile.num_hiddens, profile.batch_size, profile.num_steps
    batches = ((len(data.train) - 1) // T) // B
    model = Model(ref.get_params, ref.init_rnn_state, ref.rnn)
    corpus_list = data.train.tolist()

    def grader(num_epochs):
        config = profile.config(seed=0)
        train(model, data.train, V, type(config)(**{**config.__dict__, "num_epochs": num_epochs}), device)

    def seed(num_epochs):
        np.random.seed(0)
        random.seed(0)
        book_train(
            ref.rnn,
            lambda: ref.get_params(V, h, V, device),
            ref.init_rnn_state,
            h,
            V,
            device,
            corpus_list,
            num_epochs,
            T,
            profile.lr,
            profile.clipping_theta,
            B,
        )

    eye = torch.eye(V, device=device)
    gen = torch.Generator().manual_seed(0)
    ready = [(list(eye[X.T]), Y.T.reshape(-1))  # built once, outside the timed runs
             for X, Y in data_iter_random(data.train, B, T, device=device, generator=gen)]

    def model_only(num_epochs):
        """The student's part alone: forward, loss and backward of the reference on ready batches."""
        params = ref.get_params(V, h, V, device)
        for _ in range(num_epochs):
            for inputs, y in ready:
                outputs, _ = ref.rnn(inputs, ref.init_rnn_state(B, h, device), params)
                loss = torch.nn.functional.cross_entropy(torch.cat(outputs, dim=0), y)
                for p in params:
                    p.grad = None
                loss.backward()

    flops = flops_per_epoch(B, V, h, T, batches)
    floor = matmul_seconds(step_matmuls(B, V, h), device) * T * batches
    peak = flops / peak_flops(device)
    grader_s, seed_s, model_s = interleaved([grader, seed, model_only], epochs, rounds, device)
    return {
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "host": platform.node(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "threads": threads,
        "setting": {
            "vocab_size": V,
            "num_hiddens": h,
            "batch_size": B,
            "num_steps": T,
            "batches_per_epoch": batches,
        },
        "epochs_timed": epochs,
        "rounds": rounds,
        "gflop_per_epoch": flops / 1e9,
        "seconds_per_epoch": {"grader": grader_s, "seed": seed_s, "model_only": model_s, "floor": floor,
                              "peak_floor": peak},
        "ratio_to_floor": {"grader": grader_s / floor, "seed": seed_s / floor, "model_only": model_s / floor},
        "ratio_to_peak_floor": {"grader": grader_s / peak, "seed": seed_s / peak,
                                "model_only": model_s / peak},
        "ratio_to_model_only": {"grader": grader_s / model_s, "seed": seed_s / model_s},
        "book_250_epochs_s": {"grader": 250 * grader_s, "seed": 250 * seed_s},
    }


def show(result: dict) -> None:
    s, r, p = result["seconds_per_epoch"], result["ratio_to_floor"], result["ratio_to_peak_floor"]
    title = f"book setting, {result['device']} {result['gpu'] or ''}, {result['threads']} thread(s)"
    print(title)
    print(f"{'loop':<22}{'s/epoch':>10}{'x floor':>10}{'x peak floor':>14}{'250 epochs s':>14}")
    for name, label in (("grader", "grader's loop"), ("seed", "seed's loop (book)"),
                        ("model_only", "model alone")):
        print(f"{label:<22}{s[name]:>10.4f}{r[name]:>10.2f}{p[name]:>14.2f}{250 * s[name]:>14.1f}")
    print(f"{'floor (same shapes)':<22}{s['floor']:>10.4f}{1.0:>10.2f}{s['floor'] / s['peak_floor']:>14.2f}")
    print(f"{'peak floor':<22}{s['peak_floor']:>10.4f}{'':>10}{1.0:>14.2f}")
    print(f"{result['gflop_per_epoch']:.1f} GFLOP per epoch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the sandbox worker uses 1)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of turns; the best round counts")
    parser.add_argument("--data-dir", default=None, help="folder with jaychou_lyrics.txt.zip")
    args = parser.parse_args()
    result = measure(args.device, args.epochs, args.threads, args.data_dir, args.rounds)
    show(result)
    out = ROOT / "bench" / "results" / f"train_speed-{args.device}-{args.threads}thread.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
