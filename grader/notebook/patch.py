"""Build a submission from a module's source with some functions replaced (demos, tests, benchmarks)."""

from __future__ import annotations

import ast

__all__ = ["patched_source"]


def patched_source(base: str, patch: str) -> str:
    """`base` with the patch's functions swapped in by name; the patch's other code is appended."""
    base_tree, patch_tree = ast.parse(base), ast.parse(patch)
    replaced = {n.name: n for n in patch_tree.body if isinstance(n, ast.FunctionDef)}
    body = [replaced.pop(n.name, n) if isinstance(n, ast.FunctionDef) else n for n in base_tree.body]
    body += [n for n in patch_tree.body if not isinstance(n, ast.FunctionDef) or n.name in replaced]
    return ast.unparse(ast.Module(body=body, type_ignores=[]))
