"""The demos run end to end as a user would run them (tiny settings), and write their files."""
import json
import os

import numpy as np
import pytest

DATA = os.environ.get("TINYGRAD_CS_DATA")
pytestmark = pytest.mark.skipif(not DATA, reason="needs TINYGRAD_CS_DATA (CI sets it)")


def test_classify_demo(capsys):
    from demos import classify
    top1, top5 = classify.main([os.path.join(DATA, "styles", "tubingen.jpg"), "--val25"])
    out = capsys.readouterr().out
    assert "castle" in out and (top1, top5) == (12, 18)


def test_style_transfer_demo(tmp_path):
    from demos import style_transfer
    style_transfer.main(["--preset", "texture", "--image-size", "40", "--style-size", "40",
                         "--iters", "3", "--gif", "--gif-every", "1", "--out", str(tmp_path)])
    for name in ("texture.png", "texture_figure.png", "texture_losses.png", "texture.gif"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_mnist_gan_and_evaluation_demos(tmp_path):
    from demos import evaluate_gan, gan, train_mnist_classifier
    history = train_mnist_classifier.main(["--epochs", "1", "--train-limit", "512",
                                           "--out", str(tmp_path / "cls")])
    assert 0 <= history["test_acc"][0] <= 1
    run = tmp_path / "gan"
    gan.main(["--variant", "vanilla", "--iters", "4", "--sample-every", "2", "--quick",
              "--out", str(run)])
    gan.main(["--variant", "vanilla", "--iters", "6", "--quick", "--resume", "--out", str(run)])
    info = json.loads((run / "run.json").read_text())
    assert info["iterations"] == 6
    for name in ("samples_8x8_final.png", "samples_4x4_iter00002.png", "losses.png",
                 "checkpoint.npz", "generator.npz"):
        assert (run / name).exists(), name
    rows = evaluate_gan.main([str(run), "--classifier", str(tmp_path / "cls" / "classifier.npz"),
                              "-n", "300", "--test-limit", "1000",
                              "--table", str(tmp_path / "scores.md")])
    assert rows[0][0] == "real test digits" and 1 <= rows[0][2] <= 10
    assert np.isclose(sum(rows[1][4]), 1.0)
    assert "classifier score" in (tmp_path / "scores.md").read_text()


def test_a_user_error_ends_a_demo_with_its_message_not_a_traceback():
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, os.path.join(root, "demos", "style_transfer.py"),
                          "--preset", "starry_night", "--data", os.path.join(root, "no-such-dir")],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("style_transfer.py: error: data directory")
    assert "Traceback" not in out.stderr
