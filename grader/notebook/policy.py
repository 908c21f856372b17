"""Policy: a part must not call the builtin it is meant to implement.

The table :data:`FORBIDDEN` says which qualified names each part may not reach.
References are resolved through the submission's imports and simple aliases
(``import torch.nn.functional as G``, ``from torch.nn import functional``,
``oh = F.one_hot``, ``getattr(F, "one_hot")``, ``importlib.import_module(...)``),
and followed through the helper functions a part calls. Comments and strings that
merely mention a name are not references. What static analysis cannot see (names
built at run time) is caught by the worker's tripwires.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["FORBIDDEN", "Violation", "check_policy"]

_ONE_HOT = frozenset({"torch.nn.functional.one_hot", "torch._C._nn.one_hot"})
_RNN = frozenset({
    "torch.nn.RNN", "torch.nn.RNNCell", "torch.nn.modules.rnn.RNN", "torch.nn.modules.rnn.RNNCell",
    "torch.rnn_tanh", "torch.rnn_tanh_cell", "torch._VF.rnn_tanh", "torch._VF.rnn_tanh_cell",
})
_CLIP = frozenset({
    "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm", "torch.nn.utils.clip_grad_value_",
    "torch.nn.utils.clip_grad.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_value_",
    "torch.nn.utils.clip_grads_with_norm_", "torch.nn.utils.get_total_norm",
    "torch.nn.utils.clip_grad._get_total_norm", "torch.nn.utils.clip_grad._clip_grads_with_norm_",
    "torch.nn.utils.clip_grad.clip_grads_with_norm_", "torch.nn.utils.clip_grad.get_total_norm",
})

FORBIDDEN: dict[str, frozenset[str]] = {
    "one_hot": _ONE_HOT,
    "to_onehot": _ONE_HOT,
    "rnn": _RNN,
    "rnn_2layer": _RNN,
    "grad_clipping": _CLIP,
}
"""Part -> the builtins it must not reach."""

SHORT = {"torch.nn.functional": "F", "torch.nn": "nn", "torch.nn.utils": "torch.nn.utils"}


@dataclass(frozen=True)
class Violation:
    part: str
    name: str
    """The qualified name reached, e.g. ``torch.nn.functional.one_hot``."""
    line: int
    cell: str

    @property
    def message(self) -> str:
        return (f"uses the builtin `{self.name}` (line {self.line} of {self.cell}); this exercise is to "
                f"implement `{self.part}` without it")


def check_policy(cells: list, setup_code: str, parts: tuple[str, ...]) -> dict[str, Violation]:
    """The first violation of each part that has one."""
    trees = [(c.name, ast.parse(c.source)) for c in cells]
    aliases = _aliases([ast.parse(setup_code)] + [t for _, t in trees])
    defs = _top_level_defs(trees)
    found = {}
    for part in parts:
        forbidden = FORBIDDEN.get(part)
        if forbidden and part in defs:
            violation = _first_violation(part, forbidden, defs, aliases, set(parts) - {part})
            if violation:
                found[part] = violation
    return found


def _top_level_defs(trees) -> dict[str, list[tuple[str, ast.AST]]]:
    defs: dict[str, list] = {}
    for cell, tree in trees:
        for node in tree.body:
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
            for name in names:
                defs.setdefault(name, []).append((cell, node))
    return defs


def _aliases(trees: list[ast.Module]) -> dict[str, str]:
    aliases: dict[str, str] = {"torch": "torch", "importlib": "importlib"}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for _ in range(3):  # simple aliases of aliases: G = F; oh = G.one_hot
        for tree in trees:
            for node in ast.walk(tree):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name)):
                    target = _resolve(node.value, aliases)
                    if target:
                        aliases[node.targets[0].id] = target
    return aliases


def _resolve(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The qualified name an expression refers to, when it can be known statically."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[-1], ast.Constant):
        func = node.func
        const = node.args[-1].value
        if (isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2
                and isinstance(const, str)):
            base = _resolve(node.args[0], aliases)
            return f"{base}.{const}" if base else None
        name = _resolve(func, aliases) if not isinstance(func, ast.Name) else func.id
        if name in ("importlib.import_module", "__import__") and isinstance(node.args[0], ast.Constant):
            return str(node.args[0].value)
    return None


def _local_names(node: ast.AST) -> set[str]:
    """Names bound inside a function (its parameters and assignments): not references to globals."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return set()
    a = node.args
    names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if x is not None}
    names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    globals_ = {g for n in ast.walk(node) if isinstance(n, (ast.Global, ast.Nonlocal)) for g in n.names}
    return names - globals_


def _first_violation(part, forbidden, defs, aliases, others: set[str]) -> Violation | None:
    """Follow the part's helpers, but not other exercise functions (each answers for itself)."""
    seen, queue = {part}, [part]
    while queue:
        for cell, node in defs.get(queue.pop(0), []):
            local = _local_names(node)
            for sub in ast.walk(node):
                is_ref = (isinstance(sub, (ast.Attribute, ast.Call))
                          or (isinstance(sub, ast.Name) and sub.id not in local))
                name = _resolve(sub, aliases) if is_ref else None
                if name in forbidden:
                    return Violation(part, name, getattr(sub, "lineno", 0), cell)
                if isinstance(sub, ast.Name) and sub.id in defs and sub.id not in seen | others | local:
                    seen.add(sub.id)
                    queue.append(sub.id)
    return None
