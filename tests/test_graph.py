"""draw_graph: DOT text with names and op settings, and pictures drawn with matplotlib."""
import re

import numpy as np
import pytest
from PIL import Image

import layers as nn
import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, draw_graph
from tinygrad_cs.graph import STYLES, _collect, layered_layout, op_attributes
from tinygrad_cs.random import manual_seed

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_net():
    manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(2 * 2 * 2, 3))
    x = Tensor(np.ones((2, 1, 4, 4), np.float32))  # a constant input
    loss = F.cross_entropy(model(x), np.array([0, 2]))
    return model, loss


def labels(dot):
    return re.findall(r'label="([^"]*)"', dot)


def test_dot_names_parameters_constants_and_attributes():
    model, loss = small_net()
    dot = draw_graph(loss, module=model)
    found = labels(dot)
    assert "0.weight\\n(2, 1, 3, 3) float32" in found
    assert "3.bias\\n(3,) float32" in found
    assert "constant\\n(2, 1, 4, 4) float32" in found
    assert "Conv2d\\nstride=(2, 2), padding=(1, 1)" in found
    assert any(lab.startswith("Sum\\naxes=(1,), keepdims=True") for lab in found)
    assert found[0] == "output\\n() float32"


def test_params_argument_and_an_input_that_requires_grad():
    lin = nn.Linear(2, 1)
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    dot = draw_graph(lin(x).sum(), params={"w": lin.weight})  # only the weight named
    found = labels(dot)
    assert "w\\n(1, 2) float32" in found
    assert "input (requires grad)\\n(1, 2) float32" in found  # x
    assert "input (requires grad)\\n(1,) float32" in found  # the unnamed bias
    assert not any(lab.startswith("constant") for lab in found)


def test_picture_png_is_drawn(tmp_path):
    model, loss = small_net()
    dot = draw_graph(loss, tmp_path / "g.png", module=model)
    data = (tmp_path / "g.png").read_bytes()
    assert data[:8] == PNG_MAGIC
    assert dot.startswith("digraph")
    # the boxes are filled with their kind's colour: parameters, constants, the output
    pixels = np.asarray(Image.open(tmp_path / "g.png").convert("RGB")).reshape(-1, 3)
    colours = {tuple(p) for p in np.unique(pixels, axis=0)}
    for kind in ("param", "constant", "output"):
        hex_colour = STYLES[kind][0]
        rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, kind


def test_picture_svg_keeps_the_labels_as_text(tmp_path):
    model, loss = small_net()
    draw_graph(loss, tmp_path / "g.svg", params=model.named_parameters())
    svg = (tmp_path / "g.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ("0.weight", "3.bias", "Conv2d", "stride=(2, 2), padding=(1, 1)", "constant",
                 "output", "Linear"):
        assert text in svg, text
    assert svg.count("<path") > 20  # boxes and arrows


def test_dot_file_matches_returned_text(tmp_path):
    x = Tensor([1.0, 2.0], requires_grad=True)
    dot = draw_graph((x * 3.0).sum(), tmp_path / "g.gv")
    assert (tmp_path / "g.gv").read_text() == dot
    assert dot.count("->") == 4  # x->Mul, 3->Mul, Mul->Sum, Sum->output


def test_layout_puts_inputs_left_and_the_output_alone_on_the_right():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    nodes, edges = _collect(y, {})
    place = layered_layout(nodes, edges)
    assert all(place[src][0] < place[dst][0] for src, dst in edges)  # arrows point right
    column = {label.split("\n")[0]: place[key][0] for key, (_, label) in nodes.items()}
    # x feeds Exp (3 steps from the output) and Mul (2 steps): the longest path decides
    assert column == {"input (requires grad)": 0, "Exp": 1, "Mul": 2, "Sum": 3, "output": 4}
    assert [place[key][1] for key in nodes] == [0.0] * 5  # one node per column: centred


def test_layout_orders_a_column_by_its_consumers_rows():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    y = a.exp() + b.exp()
    nodes, edges = _collect(y, {})
    place = layered_layout(nodes, edges)
    exps = [key for key, (_, label) in nodes.items() if label == "Exp"]
    leaves = [key for key, (kind, _) in nodes.items() if kind == "input"]
    assert sorted(place[k][1] for k in exps) == [-0.5, 0.5]
    for leaf in leaves:  # each leaf sits on the row of the Exp it feeds
        (consumer,) = [dst for src, dst in edges if src == leaf]
        assert place[leaf][1] == place[consumer][1]


def test_op_attributes_skip_arrays_and_bookkeeping():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = x.max(axis=1, keepdims=True)
    text = op_attributes(out.grad_fn)
    assert text == "axes=(1,), keepdims=True"
    assert "inputs" not in op_attributes((x * x).grad_fn)


def test_bad_file_name_and_params_are_clear_errors(tmp_path):
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"draw_graph: .*'g\.jpeg'.*\.png"):
        draw_graph(x * 2, "g.jpeg")
    with pytest.raises(TypeError, match="draw_graph: params= must hold \\(name, tensor\\)"):
        draw_graph(x * 2, params=[x])
    with pytest.raises(TypeError, match="draw_graph: module= must be a Module"):
        draw_graph(x * 2, module=[x])


def test_after_backward_the_freed_graph_is_a_clear_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="draw_graph: .*freed.*retain_graph=True"):
        draw_graph(y)


def test_an_op_that_keeps_no_attributes_shows_the_settings_it_was_called_with():
    import tinygrad_cs as tg
    from tinygrad_cs import functional as F
    x = tg.randn(1, 1, 4, 4, requires_grad=True)
    dot = tg.draw_graph(F.max_pool2d(x, 3, stride=1, padding=1).sum())
    line = next(l for l in dot.splitlines() if "MaxPool2d" in l)
    assert "kernel=(3, 3)" in line and "stride=(1, 1)" in line and "padding=(1, 1)" in line
