"""The README's tour must run as written."""
import pathlib

from markdown_code import python_blocks, run_blocks

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tour saves a model file
    assert python_blocks(README), "README has no python block"
    run_blocks(README, shared=False)  # each block stands on its own
    assert "digraph" in capsys.readouterr().out
    assert (tmp_path / "model.npz").exists()
