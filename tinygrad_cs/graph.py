"""Look at a computation graph: ``draw_graph(loss, "graph.png")`` draws it.

Two outputs from one walk over the graph:

* a picture (``.png``, ``.svg`` or ``.pdf``) drawn with matplotlib, laid out by us: each
  node's column is its distance from the output (the longest path), so inputs end up on
  the left and the output on the right, and arrows follow the data forward;
* Graphviz DOT text, which ``draw_graph`` always returns (and writes to a ``.dot`` file):
  paste it into any DOT viewer, no Graphviz needed to produce it.

Nodes are the ops (with their settings: stride, padding, axis, ...) and the leaf tensors:
a model's parameters under their names (``params=model.named_parameters()`` or
``module=model``), other inputs that require grad, and constants (leaves that do not).
Draw before ``backward()``, which frees the graph (or backward with ``retain_graph=True``).
"""
from __future__ import annotations

import os

import numpy as np

from .io import atomic_path, write_text_atomic

PICTURE_FORMATS = (".png", ".svg", ".pdf")
TEXT_FORMATS = (".dot", ".gv")

# what each kind of node looks like: fill colour, and its name in the legend
STYLES = {
    "output": ("#c8f0c8", "output"),
    "op": ("#ffffff", "op (runs backward)"),
    "param": ("#cde8ff", "parameter"),
    "input": ("#ffe0b0", "input, requires grad"),
    "constant": ("#e4e4e4", "constant (no grad)"),
}

# a picture whose labels would be smaller than this (in pixels) is refused: past about a
# hundred ops in a row the figure must shrink so much that no label can be read
MIN_TEXT_PIXELS = 6
FONT_POINTS = 7

# Function attributes that belong to the autograd machinery, not to the op's settings
_MACHINERY = {"inputs", "out_data", "freed", "needs_input_grad", "attrs"}


def draw_graph(tensor, path=None, name="tinygrad", params=None, module=None) -> str:
    """Draw the graph that produced ``tensor``; returns its DOT text.

    path: None (only return the text), a ``.png``/``.svg``/``.pdf`` file (a picture drawn
    with matplotlib) or a ``.dot``/``.gv`` file (the DOT text).
    params: ``(name, tensor)`` pairs or a ``{name: tensor}`` dict, e.g.
    ``model.named_parameters()``, to label those leaves; ``module=model`` does the same.

    A graph too large for a readable picture (labels under ``MIN_TEXT_PIXELS`` pixels: a
    chain of more than about a hundred ops) is refused with a ValueError before anything is
    written; its DOT text (a ``.dot`` path) has no such limit.
    """
    from .tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected the Tensor whose graph to draw (e.g. the loss), "
                        f"got {type(tensor).__name__}.")
    kind = _output_kind(path)
    names = _leaf_names(params, module)
    nodes, edges = _collect(tensor, names)
    text = _dot_text(nodes, edges, name)
    if kind == "text":
        write_text_atomic(path, text)
    elif kind == "picture":
        _draw_picture(nodes, edges, path)
    return text


def _output_kind(path):
    if path is None:
        return None
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in PICTURE_FORMATS:
        return "picture"
    if ext in TEXT_FORMATS:
        return "text"
    raise ValueError(f"draw_graph: cannot tell what to write from the file name {path!r}; "
                     f"end it with one of {', '.join(PICTURE_FORMATS + TEXT_FORMATS)}.")


def _leaf_names(params, module) -> dict:
    """id(tensor) -> name, from named parameters and/or a Module."""
    pairs = []
    if module is not None:
        if not hasattr(module, "named_parameters"):
            raise TypeError(f"draw_graph: module= must be a Module (with named_parameters()), "
                            f"got {type(module).__name__}.")
        pairs += list(module.named_parameters())
    if params is not None:
        items = params.items() if isinstance(params, dict) else params
        for item in items:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise TypeError(f"draw_graph: params= must hold (name, tensor) pairs, e.g. "
                                f"model.named_parameters(), got an item {item!r:.60}.")
            pairs.append(item)
    return {id(t): n for n, t in pairs}


# -- the walk -----------------------------------------------------------------------------

def _collect(tensor, names):
    """Nodes ``{key: (kind, label)}`` in the order met, and edges ``[(src, dst)]``.

    Keys are "t<n>" for leaf tensors and the output, "f<n>" for ops.  Only leaves and the
    output are drawn as tensors; the tensors between two ops are the arrows.
    """
    nodes, edges, ids = {}, [], {}

    def tensor_node(t, kind=None):
        key = ids.get(("t", id(t)))
        if key is None:
            key = ids[("t", id(t))] = f"t{len(ids)}"
            if kind is None:
                kind = ("param" if id(t) in names else
                        "input" if t.requires_grad else "constant")
            title = names.get(id(t)) or {"input": "input (requires grad)"}.get(kind, kind)
            nodes[key] = (kind, f"{title}\n{tuple(t.shape)} {t.dtype}")
        return key

    root = tensor_node(tensor, "output" if tensor.grad_fn is not None else None)
    stack, seen = [(tensor.grad_fn, root)], set()
    while stack:
        node, out_key = stack.pop()
        if node is None:
            continue
        key = ids.get(("f", id(node)))
        if key is None:
            key = ids[("f", id(node))] = f"f{len(ids)}"
            attrs = op_attributes(node)
            nodes[key] = ("op", node.name + ("\n" + attrs if attrs else ""))
        edges.append((key, out_key))
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.freed:
            raise RuntimeError(f"draw_graph: the graph through {node.name} was freed by "
                               "backward(); draw before backward, or call backward with "
                               "retain_graph=True.")
        for t in node.inputs or ():
            if t.grad_fn is not None:
                stack.append((t.grad_fn, key))
            else:
                edges.append((tensor_node(t), key))
    return nodes, edges


def op_attributes(node, width=30) -> str:
    """The op's settings: every public attribute of the Function instance that is a short
    plain value (number, string, dtype, tuple of numbers), e.g. "stride=(2, 2)"; for an op
    that keeps none, the keyword arguments it was applied with.

    Arrays (saved for backward) and the autograd bookkeeping are left out.  Lines are
    wrapped at about ``width`` characters.
    """
    def settings(pairs):
        shown = ((key, _short(value)) for key, value in pairs
                 if not key.startswith(("_", "saved")) and key not in _MACHINERY)
        return [f"{key}={text}" for key, text in shown if text is not None]

    parts = settings(vars(node).items()) or settings(getattr(node, "attrs", {}).items())
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) + 2 > width:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    return "\n".join(lines + [line] if line else lines)


def _short(value):
    """A plain value as short text, or None if it is not worth showing (arrays, None)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if isinstance(value, str) and len(value) <= 20:
        return value
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, slice):  # part of an index: x[:, 1:3]
        parts = ["" if v is None else _short(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if isinstance(value, (tuple, list)) and len(value) <= 6:
        items = [_short(v) for v in value]
        if all(i is not None for i in items):
            inner = ", ".join(items) + ("," if len(items) == 1 else "")
            return f"({inner})"
    return None


# -- DOT text -----------------------------------------------------------------------------

def _dot_text(nodes, edges, name) -> str:
    quoted = str(name).replace("\\", "\\\\").replace('"', '\\"')  # any text is a valid ID
    lines = [f'digraph "{quoted}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for key, (kind, label) in nodes.items():
        label = label.replace('"', '\\"').replace("\n", "\\n")
        shape = "ellipse" if kind == "op" else "box"
        fill = f', style=filled, fillcolor="{STYLES[kind][0]}"' if kind != "op" else ""
        lines.append(f'  {key} [shape={shape}, label="{label}"{fill}];')
    lines += [f"  {src} -> {dst};" for src, dst in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- the picture ----------------------------------------------------------------------------

def layered_layout(nodes, edges) -> dict:
    """key -> (column, row).  The output is in the last column; every other node sits one
    column left of its leftmost consumer (its longest path to the output), so every arrow
    points right.  Within a column, nodes are sorted by the mean row of their consumers,
    which keeps most arrows short and uncrossed.
    """
    consumers = {key: [] for key in nodes}
    for src, dst in edges:
        consumers[src].append(dst)
    depth = {}  # distance from the output, longest path; iterative (graphs can be deep)
    for start in nodes:
        stack = [start]
        while stack:
            key = stack[-1]
            todo = [c for c in consumers[key] if c not in depth]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            depth[key] = 1 + max((depth[c] for c in consumers[key]), default=-1)
    last = max(depth.values())
    columns = {}
    for key in nodes:  # insertion order: the walk's order, a stable tie-break
        columns.setdefault(last - depth[key], []).append(key)
    place = {}
    for col in sorted(columns, reverse=True):  # output side first
        keys = columns[col]
        keys.sort(key=lambda k: np.mean([place[c][1] for c in consumers[k]])
                  if consumers[k] else 0.0)
        for i, key in enumerate(keys):
            place[key] = (col, i - (len(keys) - 1) / 2)
    return place


def _draw_picture(nodes, edges, path):
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no window, no global state
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    place = layered_layout(nodes, edges)
    n_cols = 1 + max(c for c, _ in place.values())
    rows = [r for _, r in place.values()]
    half_height = max(max(rows), -min(rows)) + 0.5
    box_w, box_h = 0.84, 0.62  # in layout units: a column is 1 wide, a row 1 high
    fig_w, fig_h = 2.4 * n_cols + 0.4, 0.95 * (2 * half_height + 1) + 0.8
    dpi = min(100.0, 12000.0 / max(fig_w, fig_h))  # a huge graph stays a sane size in pixels
    text_pixels = FONT_POINTS * dpi / 72
    if text_pixels < MIN_TEXT_PIXELS:
        raise ValueError(
            f"draw_graph: the graph has {len(nodes)} nodes in {n_cols} columns; a picture of it "
            f"would have labels {text_pixels:.1f} pixels high, too small to read. Write the "
            "DOT text instead (a path ending in .dot) and view it with a DOT viewer, or draw "
            "a smaller part of the computation.")
    fig = Figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.55, n_cols - 0.45)
    ax.set_ylim(half_height + 0.9, -half_height - 0.3)  # y grows downwards; legend at the bottom
    ax.set_axis_off()

    for src, dst in edges:
        (x0, y0), (x1, y1) = place[src], place[dst]
        ax.add_patch(FancyArrowPatch((x0 + box_w / 2, y0), (x1 - box_w / 2, y1),
                                     arrowstyle="-|>", mutation_scale=10, color="#555555",
                                     shrinkA=0, shrinkB=0, zorder=1))
    for key, (kind, label) in nodes.items():
        x, y = place[key]
        style = "round,pad=0,rounding_size=0.15" if kind == "op" else "square,pad=0"
        ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                    boxstyle=style, facecolor=STYLES[kind][0],
                                    edgecolor="#333333", linewidth=0.8, zorder=2))
        ax.text(x, y, label, ha="center", va="center", fontsize=FONT_POINTS, zorder=3,
                fontweight="bold" if kind == "op" else "normal")
    used = [kind for kind in STYLES if any(k == kind for k, _ in nodes.values())]
    ax.legend(handles=[Patch(facecolor=STYLES[k][0], edgecolor="#333333", label=STYLES[k][1])
                       for k in used], loc="lower center", ncol=len(used), fontsize=7,
              frameon=False)

    fmt = os.path.splitext(os.fspath(path))[1][1:].lower()
    # keep SVG text as text (searchable, selectable) instead of outlines
    with matplotlib.rc_context({"svg.fonttype": "none"}), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
