"""The README's tour must run as written."""
import pathlib

from markdown_code import python_blocks, run_blocks

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tour writes a picture and a model file
    assert python_blocks(README), "README has no python block"
    run_blocks(README, shared=False)  # each block stands on its own
    out = capsys.readouterr().out
    assert "Tensor([1., 1.]" in out  # softmax rows sum to 1
    assert "(2, 2) (2, 3)" in out  # the gradients' shapes, as the comment says
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "model.npz").exists()
