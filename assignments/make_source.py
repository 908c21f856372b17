"""Build the source notebooks of the course from the reference solutions.

    python assignments/make_source.py           # (re)write assignments/source/<a>/<a>.ipynb
    python assignments/make_source.py --check   # exit 1 if a committed notebook differs

Every notebook is made of cell factories (:mod:`grader.notebook.cells`), the parts of
:mod:`grader.exercises` and the functions of ``solutions/<assignment>.py``: an answer
cell holds a reference function's ``def`` line and docstring, then its body between
the solution markers. Reference code is written in ``solutions/`` only. Building is
deterministic: the same inputs give byte-identical files.

After building, generate the student versions in ``assignments/``:
``nbgrader generate_assignment rnn_scratch --force`` (and the same for ``rnn_deep``).
This is a development script; it does not ship.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # grader/ and solutions/ live in the repository root

import nbformat  # noqa: E402
from nbformat.notebooknode import NotebookNode  # noqa: E402

from grader.exercises import ASSIGNMENTS, SETUP_CODE, Assignment, Part  # noqa: E402
from grader.notebook.cells import (  # noqa: E402
    create_code_cell,
    create_grade_cell,
    create_locked_cell,
    create_markdown_cell,
    create_notebook,
    create_solution_cell,
    solution_region,
)

COURSE = ROOT / "assignments"
"""The nbgrader course root."""

SETUP_ID = "setup"
"""The ``grade_id`` of every notebook's read-only setup cell."""

# --------------------------------------------------------------------------- text

_TITLES = {
    "rnn_scratch": (
        "Recurrent neural networks from scratch",
        "In this assignment you implement a character-level recurrent neural network (RNN) in plain "
        'PyTorch, as in the *Dive into Deep Learning* section "Implementation of Recurrent Neural '
        'Networks from Scratch": one-hot inputs, the model parameters, the hidden state, the forward '
        "pass, gradient clipping and greedy prediction. A minibatch `X` of shape "
        "`(batch_size, num_steps)` holds character indices into a vocabulary of `vocab_size` "
        "characters; the model has `num_hiddens` hidden units.",
    ),
    "rnn_deep": (
        "A two-layer recurrent neural network from scratch",
        "In this assignment you stack two recurrent layers, as in the *Dive into Deep Learning* section "
        '"Deep Recurrent Neural Networks": the hidden states of layer 1 are the inputs of layer 2, and '
        "each layer keeps its own hidden state from one time step to the next. It extends the "
        "one-layer RNN of `rnn_scratch` (`get_params`, `init_rnn_state`, `rnn`) with the same "
        "interfaces, so the same training loop and prediction code work unchanged.",
    ),
}

_HOW_TO = """\
**How to work.** Run the setup cell first: it imports `torch`, `F` (`torch.nn.functional`), `nn`,
`np`, `math`, `random` and `time`, and sets `device`. Write each function in its own cell, in place of
`# YOUR CODE HERE` and `raise NotImplementedError()`, and keep its signature: the grader calls it with
exactly these arguments. The grader runs the setup cell and your answer cells only, never the other
cells, so anything a function needs belongs in its answer cell. Do not delete, split or copy the answer
and test cells.

**Check your work locally** (offline; these are the public checks the instructor runs):

```
rnn-grader check {notebook}
pytest --notebook {notebook}
```

The test cell below each exercise grades it: save the notebook, then run the cell. It grades the saved
file with the public checks the instructor runs (the same engine and seeds), in a separate sandboxed
process, prints the smallest failing input it found and ends with your points for the exercise. After
the deadline the grader also runs hidden checks (more inputs, comparisons with a reference
implementation), so passing the public checks does not guarantee full marks; the training check of the
last section is graded the same way.
"""

_LESSONS = {
    "one_hot": r"""## `one_hot`: one-hot encoding

A network does not take a character index as a number: each index $i$ (an integer from 0 to
`vocab_size` - 1) becomes the one-hot vector $\mathbf{e}_i$ of length `vocab_size`, with a single 1 at
position $i$. For a batch of $n$ indices $x$, `one_hot(x, n_class)` is the $n \times$ `n_class` matrix
whose row $j$ is $\mathbf{e}_{x_j}$: entry $(j, k)$ is 1 if $k = x_j$ and 0 otherwise.

Use tensor operations rather than a Python loop over the elements of `x`, and create the result with the
requested `dtype` on `x.device`.

```python
>>> one_hot(torch.tensor([0, 2]), 4)
tensor([[1., 0., 0., 0.],
        [0., 0., 1., 0.]])
```

**The grader checks** the shape `(n, n_class)`; the `dtype` you ask for (`torch.float32` by default);
the device: the result must be on `x.device`, which is also checked on PyTorch's `meta` device (tensors
with a shape, a dtype and a device but no data), so a result that silently lands on the CPU is caught
even without a GPU (code that must read values, such as `.item()`, cannot run on `meta` and is checked
on a GPU instead; moving data to the CPU with `.cpu()`, `.tolist()` or `.numpy()` is a device bug); the
values, against `F.one_hot`, on generated index batches of every integer dtype. `F.one_hot` itself is not
allowed inside `one_hot`.
""",
    "to_onehot": r"""## `to_onehot`: one tensor per time step

The RNN consumes a minibatch one time step at a time. `X` of shape `(batch_size, num_steps)` becomes
the list $[\mathbf{X}_1, \dots, \mathbf{X}_T]$ of $T$ = `num_steps` matrices, where $\mathbf{X}_t$ of
shape `(batch_size, n_class)` one-hot encodes column $t$ of `X`. Build it with your `one_hot`.

```python
>>> X = torch.arange(10).view(2, 5)
>>> inputs = to_onehot(X, 10)
>>> len(inputs), inputs[0].shape
(5, torch.Size([2, 10]))
>>> inputs[1].argmax(dim=1)
tensor([1, 6])
```

**The grader checks** that the result is a `list` (not a tuple, not one stacked tensor) of
`num_steps` tensors, each of shape `(batch_size, n_class)` and dtype `torch.float32`, on `X.device`
(the `meta` device included), with the values of `F.one_hot` applied to each column.
""",
    "get_params": r"""## `get_params`: the model parameters

With `num_inputs` $d$, `num_hiddens` $h$ and `num_outputs` $q$ (for a character model, $d = q$ =
`vocab_size`), the RNN has

* $\mathbf{W}_{xh} \in \mathbb{R}^{d \times h}$, $\mathbf{W}_{hh} \in \mathbb{R}^{h \times h}$ and
$\mathbf{b}_h \in \mathbb{R}^{h}$ for the hidden state,
* $\mathbf{W}_{hq} \in \mathbb{R}^{h \times q}$ and $\mathbf{b}_q \in \mathbb{R}^{q}$ for the output.

Draw every weight from $\mathcal{N}(0, 0.01^2)$ and set the biases to zero. Return a tuple in exactly
the order `(W_xh, W_hh, b_h, W_hq, b_q)` of float32 leaf tensors on `device` with
`requires_grad=True` (the training loop updates them in place).

```python
>>> params = get_params(3, 4, 5, torch.device("cpu"))
>>> [tuple(p.shape) for p in params]
[(3, 4), (4, 4), (4,), (4, 5), (5,)]
>>> all(p.is_leaf and p.requires_grad for p in params)
True
```

**The grader checks** a tuple of five tensors in this order with these shapes, dtype `torch.float32`,
leaf tensors that require grad, on `device` (the `meta` device included); weights with mean 0 and
standard deviation 0.01 on large draws; biases exactly zero.
""",
    "init_rnn_state": r"""## `init_rnn_state`: the initial hidden state

Before the first time step the hidden state is $\mathbf{H}_0 = \mathbf{0}$, of shape
`(batch_size, num_hiddens)`. Return it inside a tuple, `(H,)`: the state is a tuple so that models with
several state tensors (the two-layer RNN of `rnn_deep`, or an LSTM) share one interface.

```python
>>> init_rnn_state(2, 4, torch.device("cpu"))
(tensor([[0., 0., 0., 0.],
        [0., 0., 0., 0.]]),)
```

**The grader checks** a tuple of one float32 tensor of zeros of shape `(batch_size, num_hiddens)` on
`device` (the `meta` device included).
""",
    "rnn": r"""## `rnn`: the forward pass

For each time step $t = 1, \dots, T$, with the input $\mathbf{X}_t$ of shape `(batch_size, d)`:

$$\mathbf{H}_t = \tanh(\mathbf{X}_t \mathbf{W}_{xh} + \mathbf{H}_{t-1} \mathbf{W}_{hh} + \mathbf{b}_h),
\qquad \mathbf{O}_t = \mathbf{H}_t \mathbf{W}_{hq} + \mathbf{b}_q.$$

`inputs` is the list $[\mathbf{X}_1, \dots, \mathbf{X}_T]$ (as from `to_onehot`), `state` is `(H,)`
holding $\mathbf{H}_0$, and `params` is the tuple from `get_params`. Return `(outputs, (H,))`:
`outputs` is the list $[\mathbf{O}_1, \dots, \mathbf{O}_T]$, each of shape `(batch_size, q)`, and `H`
is $\mathbf{H}_T$, the state after the last step (the training loop carries it into the next
minibatch). Keep everything differentiable: no `.detach()`, no NumPy, no in-place changes to tensors
that autograd needs.

```python
>>> params = get_params(5, 4, 5, torch.device("cpu"))
>>> inputs = to_onehot(torch.tensor([[0, 1, 2], [3, 4, 0]]), 5)  # batch_size 2, num_steps 3
>>> outputs, (H,) = rnn(inputs, init_rnn_state(2, 4, torch.device("cpu")), params)
>>> len(outputs), outputs[0].shape, H.shape
(3, torch.Size([2, 5]), torch.Size([2, 4]))
```

**The grader checks** that `outputs` is a `list` of `num_steps` tensors of shape `(batch_size, q)` and
the new state a `tuple` `(H,)`; the values against PyTorch's `nn.RNN` (with your weights copied in) on
generated inputs, states and parameters; the gradients with respect to every parameter against
autograd through `nn.RNN`; the devices (the `meta` device included). `nn.RNN` and its relatives
(`nn.RNNCell`, `torch.rnn_tanh`) are not allowed inside `rnn`.
""",
    "grad_clipping": r"""## `grad_clipping`: gradient clipping

Backpropagation through time multiplies many Jacobians, so gradients can explode. Clipping bounds
them: let $\mathbf{g}$ be the gradients of *all* parameters taken together as one vector and
$g = \|\mathbf{g}\|_2$; then

$$\mathbf{g} \leftarrow \min\left(1, \frac{\theta}{\|\mathbf{g}\|_2}\right) \mathbf{g}.$$

That is: when $g > \theta$, multiply every gradient by $\theta / g$; otherwise leave the gradients
exactly as they are. Change each `param.grad` in place and return nothing.

```python
>>> w, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
>>> w.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])  # g = 5
>>> grad_clipping([w, b], 1.0, torch.device("cpu"))
>>> w.grad, b.grad
(tensor([0.6000, 0.0000]), tensor([0.8000]))
```

**The grader checks** one global norm over all parameters (not one norm per parameter); gradients
changed in place; gradients unchanged bit for bit when $g \le \theta$; the values against
`torch.nn.utils.clip_grad_norm_` on generated sets of gradients. `clip_grad_norm_` and
`clip_grad_value_` are not allowed inside `grad_clipping`.
""",
    "predict_rnn": r"""## `predict_rnn`: greedy prediction

To continue a text, first feed the `prefix` through the network one character at a time to warm up
the hidden state (the outputs are ignored there: the next input is the prefix's next character). Then,
`num_chars` times, take the output $\mathbf{O}_t$, choose the character with the largest score
(greedy decoding, an argmax), append it and feed it back as the next input. Start from the state that
the `init_rnn_state` argument gives for a batch of one sequence, and call the `rnn` argument with a
one-step list of inputs, as `to_onehot` makes it. Return the prefix followed by the `num_chars` new
characters.

Use the functions passed in as `rnn` and `init_rnn_state`, not your global ones: the grader passes
its own test doubles and trained models. Here a double scores the character after its input highest:

```python
>>> idx_to_char = ["a", "b", "c", "d"]
>>> char_to_idx = {char: i for i, char in enumerate(idx_to_char)}
>>> def next_char_rnn(inputs, state, params):
...     return [torch.roll(X_t, 1, dims=1) for X_t in inputs], state
>>> predict_rnn("ba", 4, next_char_rnn, None, init_rnn_state, 8, 4, torch.device("cpu"),
...             idx_to_char, char_to_idx)
'babcda'
```

**The grader checks**, with its own test doubles for `rnn` and `init_rnn_state`, that the prefix is
fed character by character with the state carried from call to call, that each new character is the
argmax of the last output, and that the result is a `str` of length `len(prefix) + num_chars` that
starts with `prefix` (`num_chars = 0` gives the prefix back).
""",
    "get_params_2layer": r"""## `get_params_2layer`: the parameters of two layers

Layer 1 maps the input (size $d$) to $h$ hidden units, layer 2 maps layer 1's hidden state to its own
$h$ hidden units, and the output layer reads layer 2:

* layer 1: $\mathbf{W}_{xh1} \in \mathbb{R}^{d \times h}$, $\mathbf{W}_{hh1} \in \mathbb{R}^{h \times h}$,
$\mathbf{b}_{h1} \in \mathbb{R}^{h}$;
* layer 2: $\mathbf{W}_{xh2} \in \mathbb{R}^{h \times h}$, $\mathbf{W}_{hh2} \in \mathbb{R}^{h \times h}$,
$\mathbf{b}_{h2} \in \mathbb{R}^{h}$;
* output: $\mathbf{W}_{hq} \in \mathbb{R}^{h \times q}$, $\mathbf{b}_q \in \mathbb{R}^{q}$.

Initialise them as in `get_params` (weights from $\mathcal{N}(0, 0.01^2)$, biases zero) and return a
tuple in exactly the order `(W_xh1, W_hh1, b_h1, W_xh2, W_hh2, b_h2, W_hq, b_q)`.

```python
>>> params = get_params_2layer(3, 4, 5, torch.device("cpu"))
>>> [tuple(p.shape) for p in params]
[(3, 4), (4, 4), (4,), (4, 4), (4, 4), (4,), (4, 5), (5,)]
```

**The grader checks** a tuple of eight tensors in this order with these shapes, dtype
`torch.float32`, leaf tensors that require grad, on `device` (the `meta` device included); weights
with mean 0 and standard deviation 0.01 on large draws; biases exactly zero.
""",
    "init_rnn_state_2layer": r"""## `init_rnn_state_2layer`: one state per layer

Each layer has its own hidden state. Return `(H1, H2)`, both zeros of shape
`(batch_size, num_hiddens)`.

```python
>>> H1, H2 = init_rnn_state_2layer(2, 4, torch.device("cpu"))
>>> H1.shape, H2.shape, H1.abs().sum().item() + H2.abs().sum().item()
(torch.Size([2, 4]), torch.Size([2, 4]), 0.0)
```

**The grader checks** a tuple of two float32 tensors of zeros of shape `(batch_size, num_hiddens)` on
`device` (the `meta` device included).
""",
    "rnn_2layer": r"""## `rnn_2layer`: the forward pass of two stacked layers

For each time step $t = 1, \dots, T$, each layer has its own recurrence:

$$\mathbf{H}^{(1)}_t = \tanh(\mathbf{X}_t \mathbf{W}_{xh1} + \mathbf{H}^{(1)}_{t-1} \mathbf{W}_{hh1} +
\mathbf{b}_{h1}),$$
$$\mathbf{H}^{(2)}_t = \tanh(\mathbf{H}^{(1)}_t \mathbf{W}_{xh2} + \mathbf{H}^{(2)}_{t-1} \mathbf{W}_{hh2} +
\mathbf{b}_{h2}),$$
$$\mathbf{O}_t = \mathbf{H}^{(2)}_t \mathbf{W}_{hq} + \mathbf{b}_q.$$

In code, `H1` is $\mathbf{H}^{(1)}$ and `H2` is $\mathbf{H}^{(2)}$. `state` is `(H1, H2)` before the
first step; return `(outputs, (H1, H2))` with `outputs` the list $[\mathbf{O}_1, \dots, \mathbf{O}_T]$,
each of shape `(batch_size, q)`, and the states after the last step.

**A common mistake.** A widely copied answer drops $\mathbf{H}^{(2)}_{t-1} \mathbf{W}_{hh2}$, computing
$\mathbf{H}^{(2)}_t = \tanh(\mathbf{H}^{(1)}_t \mathbf{W}_{xh2} + \mathbf{b}_{h2})$. It runs, its shapes
are right and it even trains, but layer 2 then has no memory of its own and `W_hh2` never gets a
gradient: it is not a two-layer RNN, and the grader fails it.

```python
>>> params = get_params_2layer(5, 4, 5, torch.device("cpu"))
>>> inputs = [torch.randn(2, 5) for _ in range(3)]  # num_steps 3 inputs of shape (batch_size 2, d 5)
>>> outputs, (H1, H2) = rnn_2layer(inputs, init_rnn_state_2layer(2, 4, torch.device("cpu")), params)
>>> len(outputs), outputs[0].shape, H1.shape, H2.shape
(3, torch.Size([2, 5]), torch.Size([2, 4]), torch.Size([2, 4]))
```

**The grader checks** that `outputs` is a `list` of `num_steps` tensors of shape `(batch_size, q)` and
the new state a `tuple` `(H1, H2)`; the values against `nn.RNN(num_layers=2)` (with your weights
copied in) on generated inputs, states and parameters, which catches the mistake above; the
gradients with respect to every parameter; the devices (the `meta` device included). `nn.RNN` and its
relatives are not allowed inside `rnn_2layer`.
""",
}

_TRAINING = r"""## Training check

Together, {functions} make a complete character-level language model. After the deadline the grader
trains *your* functions with its own training loop (random minibatches of a text corpus, cross-entropy
loss, gradient clipping), then evaluates the trained parameters with its own forward pass on held-out
text and computes the perplexity

$$\exp\left(-\frac{{1}}{{n}} \sum_{{t=1}}^{{n}} \log P(x_t \mid x_{{t-1}}, \dots, x_1)\right),$$

which must fall below a calibrated threshold (1 is a perfect model; `vocab_size` is a model that
guesses uniformly). Because the grader reads the trained parameters itself, they must mean what the
contract says: every weight has the shape given above and multiplies from the right, in the order given.

The cell below runs a short loop of this kind (with Adam, to be quick) on a sentence of *The Time
Machine*, for a few seconds. With correct functions the perplexity falls towards 1{predicts}. It is
not graded; the test cell after it runs the grader's own training check on your saved functions (its
fast profile, a few seconds on a laptop), as `rnn-grader check` does.
"""

_DEMO = '''\
def train_tiny(get_params, init_rnn_state, rnn, text, num_hiddens=32, num_steps=8, batch_size=16,
               num_updates=150, lr=0.02, theta=1.0):
    """Train a character model on `text` with random minibatches and Adam; print the perplexity."""
    idx_to_char = sorted(set(text))
    char_to_idx = {char: i for i, char in enumerate(idx_to_char)}
    vocab_size = len(idx_to_char)
    corpus = torch.tensor([char_to_idx[char] for char in text], device=device)  # (len(text),)
    params = get_params(vocab_size, num_hiddens, vocab_size, device)
    optimizer = torch.optim.Adam(params, lr=lr)
    for update in range(1, num_updates + 1):
        starts = torch.randint(0, len(corpus) - num_steps, (batch_size,)).tolist()
        X = torch.stack([corpus[s : s + num_steps] for s in starts])  # (batch_size, num_steps)
        Y = torch.stack([corpus[s + 1 : s + num_steps + 1] for s in starts])  # (batch_size, num_steps)
        state = init_rnn_state(batch_size, num_hiddens, device)
        inputs = list(F.one_hot(X.T, vocab_size).float())  # num_steps x (batch_size, vocab_size)
        outputs, state = rnn(inputs, state, params)  # num_steps x (batch_size, vocab_size)
        loss = F.cross_entropy(torch.cat(outputs), Y.T.reshape(-1))  # mean over num_steps * batch_size
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, theta)
        optimizer.step()
        if update % 50 == 0:
            print(f"update {update}: perplexity {math.exp(loss.item()):.2f}")
    return params, idx_to_char, char_to_idx


torch.manual_seed(0)
TEXT = "the time traveller for so it will be convenient to speak of him was expounding a recondite matter "
'''

_PREDICT_DEMO = """\
print(predict_rnn("the time ", 60, rnn, params, init_rnn_state, 32, len(idx_to_char), device,
                  idx_to_char, char_to_idx))
"""

_DEMO_MODELS = {
    "rnn_scratch": ("get_params", "init_rnn_state", "rnn"),
    "rnn_deep": ("get_params_2layer", "init_rnn_state_2layer", "rnn_2layer"),
}

# --------------------------------------------------------------------------- grade cells

_GRADE_CELL = """\
# Save the notebook, then run this cell: it grades the saved answer in a separate sandboxed process
# (public checks; the instructor adds hidden ones), prints what they found and ends with the points.
from grader.cell import grade_cell

grade_cell("{name}")
"""


def grade_cell_source(part: Part) -> str:
    """The source of the grade cell ``test_<part>``: a call of :func:`grader.cell.grade_cell`.

    The call grades the part with the same engine, seed and profile as ``rnn-grader grade``
    and ends with the points as a bare number, nbgrader's partial credit.
    """
    return _GRADE_CELL.format(name=part.name).rstrip("\n")


# --------------------------------------------------------------------------- answer cells


def reference_function(assignment: Assignment, part: Part):
    """The reference implementation of ``part``, from ``solutions/<assignment>.py``."""
    module = importlib.import_module(f"solutions.{assignment.name}")
    try:
        return getattr(module, part.name)
    except AttributeError:
        raise SystemExit(f"solutions/{assignment.name}.py has no function {part.name!r}") from None


def split_function(func) -> tuple[str, str, str]:
    """``(header, body, indent)`` of a function's source: the ``def`` and docstring, the rest, its indent."""
    source = textwrap.dedent(inspect.getsource(func))
    node = ast.parse(source).body[0]
    if not (isinstance(node, ast.FunctionDef) and ast.get_docstring(node) is not None and len(node.body) > 1):
        raise SystemExit(f"{func.__module__}.{func.__qualname__} needs a docstring and a body")
    docstring = node.body[0]
    lines = source.splitlines()
    header = "\n".join(lines[: docstring.end_lineno])
    body = "\n".join(lines[docstring.end_lineno :]).strip("\n")
    return header, body, " " * docstring.col_offset


def answer_cell_source(func) -> str:
    """The function's ``def`` and docstring, then its body as the solution region."""
    header, body, indent = split_function(func)
    return f"{header}\n{solution_region(body, indent=indent)}"


# --------------------------------------------------------------------------- notebooks


def intro_source(assignment: Assignment) -> str:
    title, summary = _TITLES[assignment.name]
    rows = [f"| `{p.name}` | {p.points:g} |" for p in assignment.parts]
    rows += [f"| total | {assignment.max_score:g} |"]
    table = "\n".join(["| exercise | points |", "| --- | --- |", *rows])
    how_to = _HOW_TO.format(notebook=assignment.notebook)
    return f"# {title}\n\n{summary}\n\n{how_to}\n{table}"


def part_cells(assignment: Assignment, part: Part) -> list[NotebookNode]:
    """The lesson, the answer cell and the grade cell of one exercise."""
    func = reference_function(assignment, part)
    return [
        create_markdown_cell(_LESSONS[part.name].rstrip("\n"), cell_id=f"about_{part.name}"),
        create_solution_cell(answer_cell_source(func), "code", part.name),
        create_grade_cell(grade_cell_source(part), "code", part.test_cell, part.points),
    ]


def training_cells(assignment: Assignment) -> list[NotebookNode]:
    """The training section: what the training check does, a short ungraded demo, the training grade cell."""
    model = _DEMO_MODELS[assignment.name]  # (get_params, init_rnn_state, rnn) of this assignment
    predicts = "predict_rnn" in assignment.functions
    text = _TRAINING.format(
        functions="`{}`, `{}` and `{}`".format(*model),
        predicts=" and the prediction continues the sentence" if predicts else "",
    )
    demo = _DEMO + "params, idx_to_char, char_to_idx = train_tiny({}, {}, {}, TEXT * 4)\n".format(*model)
    if predicts:
        demo += _PREDICT_DEMO
    graded = [create_grade_cell(grade_cell_source(p), "code", p.test_cell, p.points)
              for p in assignment.parts if p.training]
    return [
        create_markdown_cell(text.rstrip("\n"), cell_id="training"),
        create_code_cell(demo.rstrip("\n"), cell_id="training_demo"),
        *graded,
    ]


def build_notebook(assignment: Assignment) -> NotebookNode:
    """The source notebook of ``assignment``: intro, setup, one exercise after another, training."""
    cells = [
        create_markdown_cell(intro_source(assignment), cell_id="intro"),
        create_locked_cell(SETUP_CODE, "code", SETUP_ID),
    ]
    for part in assignment.parts:
        if not part.training:  # the training parts' grade cells close the training section
            cells += part_cells(assignment, part)
    return create_notebook(cells + training_cells(assignment))


def source_path(assignment: Assignment) -> Path:
    return COURSE / "source" / assignment.name / assignment.notebook


def render(nb: NotebookNode) -> str:
    """The notebook as the file text nbformat writes."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed notebook differs")
    args = parser.parse_args(argv)
    stale = []
    for assignment in ASSIGNMENTS.values():
        path, text = source_path(assignment), render(build_notebook(assignment))
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path} differs from what make_source.py builds; run: python assignments/make_source.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
