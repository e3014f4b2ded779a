"""Look at a computation graph: ``draw_graph(y)`` returns Graphviz DOT text.

Paste the text into any DOT viewer, or run ``dot -Tpng graph.dot -o graph.png`` where
Graphviz is installed; producing the text needs nothing but Python.
"""
from __future__ import annotations

from .io import write_text_atomic


def draw_graph(tensor, path=None, name="tinygrad") -> str:
    """DOT text of the graph that produced ``tensor``; also written to ``path`` if given.

    Call it before ``backward()`` (which frees the graph) or backward with
    ``retain_graph=True``.  Boxes are tensors (shape, dtype; leaves that require grad are filled), ellipses are the
    ops that will run backward.  Edges point from inputs to outputs, as data flows forward.
    """
    lines = [f"digraph {name} {{", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    ids = {}

    def tensor_node(t):
        key = ("t", id(t))
        if key not in ids:
            ids[key] = f"t{len(ids)}"
            style = ', style=filled, fillcolor="#cde8ff"' if t.is_leaf and t.requires_grad else ""
            label = f"{tuple(t.shape)}\\n{t.dtype}"
            lines.append(f'  {ids[key]} [shape=box, label="{label}"{style}];')
        return ids[key]

    root = tensor_node(tensor)
    stack, seen = [(tensor.grad_fn, root)], set()
    while stack:
        node, out_id = stack.pop()
        if node is None:
            continue
        key = ("f", id(node))
        if key not in ids:
            ids[key] = f"f{len(ids)}"
            lines.append(f'  {ids[key]} [shape=ellipse, label="{node.name}"];')
        lines.append(f"  {ids[key]} -> {out_id};")
        if id(node) in seen:
            continue
        seen.add(id(node))
        for t in node.inputs or ():
            if t.grad_fn is not None:
                stack.append((t.grad_fn, ids[key]))
            else:
                lines.append(f"  {tensor_node(t)} -> {ids[key]};")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if path is not None:
        write_text_atomic(path, text)
    return text

