"""The book's full setting, trained once per part with the grader's loop: does it reach the book's figure?

    python bench/book_run.py [--parts train_rnn train_rnn_2layer] [--seed 0] [--device cpu|cuda]

The ``book`` profile (Jay Chou lyrics, 256 hidden units, 35 steps, batch 32, lr 100,
theta 0.01, 250 epochs, random sampling) with the reference solutions, evaluated by the
grader's own forward pass on the training text, as the book reports it (about 1.3 at
epoch 250). CI checks the same pipeline at 60 epochs (profile ``book-ci``); this is the
full run. Prints the curve every 50 epochs and writes ``bench/results/book_run-<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from grader.training.calibrate import reference_run  # noqa: E402

BOOK_FIGURE = 1.3
"""The perplexity the book prints at epoch 250 (d2l-zh v1, section 6.4, random sampling)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["train_rnn"],
                        choices=["train_rnn", "train_rnn_2layer"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    runs = {}
    for part in args.parts:
        run = reference_run("book", part, args.seed, args.device)
        runs[part] = {k: run[k] for k in ("seed", "perplexity", "nan_epoch", "seconds")} | {
            "curve_every_50": {e: round(run["curve"][e - 1], 3) for e in range(50, len(run["curve"]) + 1, 50)}
        }
        print(f"{part}: perplexity {run['perplexity']:.3f} after {len(run['curve'])} epochs "
              f"(book: about {BOOK_FIGURE}) in {run['seconds']:.0f} s on {args.device}")
        print("  training perplexity every 50 epochs:", runs[part]["curve_every_50"])
    result = {"profile": "book", "device": args.device, "torch": torch.__version__, "host": platform.node(),
              "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
              "threads": 1, "book_figure": BOOK_FIGURE, "runs": runs}
    out = ROOT / "bench" / "results" / f"book_run-{args.device}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
