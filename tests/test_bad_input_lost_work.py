"""Work is never lost: a run folder is not started over silently, a resumed run keeps its
options, a killed save is cleaned up, finished scores are written at once, a read-only file
is never replaced, and a NaN loss stops training.

The demos run in-process on a few hundred random digits (load_mnist is replaced), so these
tests need no data directory and take seconds."""
import json
import os
import re
import stat
import subprocess
import sys

import numpy as np
import pytest

from demos import evaluate_gan, gan as gan_demo, style_transfer, train_mnist_classifier
from models.gan_training import GANTrainer
from tinygrad_cs.io import atomic_path, remove_stale_temporaries, save_npz_atomic, write_text_atomic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fake_mnist(*args, **kwargs):
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (96, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, 96, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, 40, dtype=np.uint8)}


def no_work(*args, **kwargs):
    pytest.fail("the work started before the arguments were checked")


@pytest.fixture
def small_gan(monkeypatch):
    monkeypatch.setattr(gan_demo, "load_mnist", fake_mnist)
    return lambda out, *extra: gan_demo.main(["--quick", "--batch-size", "16", "--iters", "2",
                                              "--sample-every", "100", "--out", str(out), *extra])


def refused(capsys, main, argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    return capsys.readouterr().err


# -- GAN runs ---------------------------------------------------------------------------------

def test_existing_run_is_not_started_over(tmp_path, small_gan, monkeypatch, capsys):
    run = tmp_path / "run"
    small_gan(run)
    before = (run / "checkpoint.npz").read_bytes()
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    err = refused(capsys, gan_demo.main, ["--quick", "--batch-size", "16", "--out", str(run)])
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert (run / "checkpoint.npz").read_bytes() == before
    err = refused(capsys, gan_demo.main, ["--quick", "--out", str(run), "--resume", "--overwrite"])
    assert "contradict" in err


def test_overwrite_starts_again(tmp_path, small_gan):
    run = tmp_path / "run"
    small_gan(run, "--iters", "3")
    trainer = small_gan(run, "--overwrite")
    assert trainer.iteration == 2 and len(trainer.history["d_loss"]) == 2


OPTION_CHANGES = [  # extra argv on resume -> fragment of the error
    (["--batch-size", "32"], "--batch-size 16 (run) vs 32 (now)"),
    (["--seed", "3"], "--seed 0 (run) vs 3 (now)"),
    (["--variant", "lsgan"], "--variant vanilla (run) vs lsgan (now)"),
    (["--critic-batchnorm"], "--critic-batchnorm False (run) vs True (now)"),
]


@pytest.mark.parametrize("extra, fragment", OPTION_CHANGES)
def test_resume_with_other_options_is_refused(tmp_path, small_gan, monkeypatch, capsys, extra,
                                              fragment):
    run = tmp_path / "run"
    small_gan(run)
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    argv = ["--quick", "--iters", "4", "--out", str(run), "--resume"]
    if "--batch-size" not in extra:
        argv += ["--batch-size", "16"]
    err = refused(capsys, gan_demo.main, argv + extra)
    assert "options differ" in err and fragment in err


def test_resume_without_quick_is_refused(tmp_path, small_gan, monkeypatch, capsys):
    run = tmp_path / "run"
    small_gan(run)
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    err = refused(capsys, gan_demo.main, ["--batch-size", "16", "--out", str(run), "--resume"])
    assert "--quick True (run) vs False (now)" in err


def test_resume_with_the_same_options_continues(tmp_path, small_gan):
    run = tmp_path / "run"
    small_gan(run)
    trainer = small_gan(run, "--resume", "--iters", "3")
    assert trainer.iteration == 3


def test_iters_zero_is_refused_not_a_full_run(tmp_path, small_gan, monkeypatch, capsys):
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    err = refused(capsys, gan_demo.main, ["--iters", "0", "--out", str(tmp_path / "r")])
    assert "argument --iters: must be a positive integer (1 or more), got 0" in err


def test_leftover_of_a_killed_save_is_removed_on_the_next_start(tmp_path, small_gan, capsys):
    run = tmp_path / "run"
    small_gan(run)
    # a real kill: a child process dies (no cleanup runs) in the middle of a save
    code = ("import os, sys; from tinygrad_cs.io import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    open(tmp, 'wb').write(b'half a checkpoint')\n"
            "    os._exit(9)\n")
    done = subprocess.run([sys.executable, "-c", code, str(run / "checkpoint.npz")], cwd=ROOT)
    assert done.returncode == 9
    leftovers = list(run.glob(".checkpoint.npz.*.tmp"))
    assert len(leftovers) == 1
    small_gan(run, "--resume", "--iters", "3")
    assert not list(run.glob(".checkpoint.npz.*.tmp"))
    assert "left behind by an interrupted save" in capsys.readouterr().out


def test_a_nan_loss_stops_the_gan_and_keeps_the_last_checkpoint(tmp_path, small_gan, monkeypatch):
    class Diverging(GANTrainer):
        def step(self):
            d, g = super().step()
            return (float("nan") if self.iteration == 3 else d), g

    monkeypatch.setattr(gan_demo, "GANTrainer", Diverging)
    run = tmp_path / "run"
    with pytest.raises(FloatingPointError, match=r"gan.py \(D loss\): loss is NaN at iteration 3"):
        small_gan(run, "--iters", "10", "--checkpoint-every", "1")
    assert int(np.load(run / "checkpoint.npz")["iteration"]) == 2


# -- scoring GANs -----------------------------------------------------------------------------

def make_run(folder, variant="vanilla"):
    os.makedirs(folder)
    (folder / "run.json").write_text(json.dumps(
        {"variant": variant, "iterations": 5, "epochs": 0.1, "ms_per_iteration": 7}))
    (folder / "generator.npz").write_bytes(b"")
    return folder


@pytest.fixture
def cheap_scoring(monkeypatch, tmp_path):
    """evaluate_gan with its costly parts replaced; records what was scored."""
    scored = []

    class Classifier:
        def load(self, path):
            pass

    monkeypatch.setattr(evaluate_gan, "MNISTClassifier", Classifier)
    monkeypatch.setattr(evaluate_gan, "load_mnist", fake_mnist)
    monkeypatch.setattr(evaluate_gan, "features", lambda model, x: np.zeros((len(x), 2)))
    monkeypatch.setattr(evaluate_gan, "scores", lambda model, x, f: (1.5, 2.5, np.full(10, 0.1)))

    def generate(run, info, n):
        if "broken" in str(run):
            raise RuntimeError("killed while scoring")
        scored.append(run)
        return np.zeros((n, 28, 28), np.uint8)

    monkeypatch.setattr(evaluate_gan, "generate", generate)
    (tmp_path / "classifier.npz").write_bytes(b"")
    return scored


def test_score_table_matched_by_the_glob_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(evaluate_gan, "load_mnist", no_work)
    monkeypatch.setattr(evaluate_gan, "MNISTClassifier", no_work)
    run = make_run(tmp_path / "gan_vanilla")
    table = tmp_path / "gan_scores.md"
    table.write_text("| earlier scores |\n")
    for argv, fragment in [
        ([str(run), str(table), "--table", str(table)], "is the score table (--table) itself"),
        ([str(run), str(table), "--table", str(tmp_path / "t.md")], "is not a finished run of demos/gan.py (not a folder)"),
        ([str(tmp_path)], "no run.json or generator.npz in it"),
    ]:
        assert fragment in refused(capsys, evaluate_gan.main, argv + ["--classifier", "x"])
    assert table.read_text() == "| earlier scores |\n"


def test_damaged_run_json_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(evaluate_gan, "load_mnist", no_work)
    run = make_run(tmp_path / "r")
    (run / "run.json").write_text("{not json")
    assert "run.json is damaged" in refused(capsys, evaluate_gan.main, [str(run)])


def test_scoring_out_gan_star_twice_works(tmp_path, monkeypatch, cheap_scoring):
    import glob
    monkeypatch.chdir(tmp_path)
    make_run(tmp_path / "out" / "gan_vanilla")
    make_run(tmp_path / "out" / "gan_lsgan", "lsgan")
    for _ in range(2):  # the second time, the glob would have matched a table out/gan_*.md
        rows = evaluate_gan.main(sorted(glob.glob("out/gan_*")) + ["--classifier", "classifier.npz"])
        assert len(rows) == 3
    assert "lsgan (5 it" in (tmp_path / "out" / "scores_gan.md").read_text()


def test_each_run_is_written_as_soon_as_it_is_scored(tmp_path, cheap_scoring):
    first = make_run(tmp_path / "gan_a")
    broken = make_run(tmp_path / "gan_broken")
    table = tmp_path / "scores.md"
    with pytest.raises(RuntimeError, match="killed while scoring"):
        evaluate_gan.main([str(first), str(broken), "--classifier", str(tmp_path / "classifier.npz"),
                           "--table", str(table), "-n", "3"])
    text = table.read_text()
    assert "real test digits" in text and "vanilla (5 it, 0.1 ep)" in text
    assert cheap_scoring == [str(first)]


# -- read-only files ----------------------------------------------------------------------------

WRITERS = [
    ("save_npz_atomic", lambda p: save_npz_atomic(p, {"x": np.ones(2)})),
    ("write_text_atomic", lambda p: write_text_atomic(p, "new")),
]


@pytest.mark.parametrize("name, write", WRITERS)
def test_read_only_file_is_not_replaced(tmp_path, name, write):
    path = tmp_path / "kept.bin"
    path.write_bytes(b"precious")
    os.chmod(path, 0o444)
    try:
        # root may write anything, so the mode itself is what must be respected
        with pytest.raises(PermissionError, match=r"kept.bin' is read-only \(mode 444\)"):
            write(path)
        assert path.read_bytes() == b"precious"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
        assert os.listdir(tmp_path) == ["kept.bin"]  # no temporary left behind
    finally:
        os.chmod(path, 0o644)


@pytest.mark.parametrize("name, write", WRITERS)
def test_saving_over_a_file_keeps_its_mode(tmp_path, name, write):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    write(path)
    assert path.read_bytes() != b"old"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_overwrite_refuses_a_read_only_run(tmp_path, small_gan, monkeypatch, capsys):
    run = tmp_path / "run"
    small_gan(run)
    os.chmod(run / "checkpoint.npz", 0o444)
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    try:
        with pytest.raises(PermissionError, match="read-only"):
            gan_demo.main(["--quick", "--batch-size", "16", "--out", str(run), "--overwrite"])
        assert (run / "checkpoint.npz").exists()
    finally:
        os.chmod(run / "checkpoint.npz", 0o644)


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["c.txt"]


def test_remove_stale_temporaries_only_touches_that_file(tmp_path):
    for name in (".a.npz.x1.tmp", ".a.npz.x2.tmp", ".b.npz.x3.tmp", "a.npz"):
        (tmp_path / name).write_text("")
    removed = remove_stale_temporaries(tmp_path / "a.npz")
    assert sorted(os.path.basename(p) for p in removed) == [".a.npz.x1.tmp", ".a.npz.x2.tmp"]
    assert sorted(os.listdir(tmp_path)) == [".b.npz.x3.tmp", "a.npz"]


# -- NaN stops training -------------------------------------------------------------------------

def test_a_nan_loss_stops_the_mnist_classifier_before_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(train_mnist_classifier, "load_mnist", fake_mnist)
    monkeypatch.setattr(train_mnist_classifier, "train_epoch",
                        lambda *a, **k: [2.3, 2.2, float("nan"), 2.0])
    with pytest.raises(FloatingPointError,
                       match="train_mnist_classifier.py: loss is NaN at iteration 3.*--lr"):
        train_mnist_classifier.main(["--epochs", "2", "--out", str(tmp_path)])
    assert not (tmp_path / "classifier.npz").exists()


def test_a_nan_loss_stops_style_transfer(tmp_path, monkeypatch):
    seen = []

    def fake_style_transfer(*args, callback=None, num_iters=None, **kwargs):
        history = {"total": []}
        for t, loss in enumerate([5.0, 4.0, float("nan"), 3.0]):
            history["total"].append(loss)
            seen.append(t)
            callback(t, None, history)

    monkeypatch.setattr(style_transfer, "load_squeezenet", lambda *a: None)
    monkeypatch.setattr(style_transfer, "image_path", lambda name, data: name)
    monkeypatch.setattr(style_transfer, "style_transfer", fake_style_transfer)
    with pytest.raises(FloatingPointError, match=r"style_transfer.py \(texture\): loss is NaN at "
                                                 "iteration 3"):
        style_transfer.main(["--preset", "texture", "--out", str(tmp_path)])
    assert seen == [0, 1, 2]  # stopped at once


def test_read_only_outputs_are_found_before_training(tmp_path, monkeypatch):
    os.makedirs(tmp_path / "cls")
    (tmp_path / "cls" / "classifier.npz").write_bytes(b"kept")
    os.chmod(tmp_path / "cls" / "classifier.npz", 0o444)
    monkeypatch.setattr(train_mnist_classifier, "load_mnist", no_work)
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    monkeypatch.setattr(style_transfer, "style_transfer", no_work)
    monkeypatch.setattr(style_transfer, "load_squeezenet", lambda *a: None)
    monkeypatch.setattr(style_transfer, "image_path", lambda name, data: name)
    (tmp_path / "texture_losses.png").write_bytes(b"kept")
    os.chmod(tmp_path / "texture_losses.png", 0o444)
    try:
        with pytest.raises(PermissionError, match="classifier.npz' is read-only"):
            train_mnist_classifier.main(["--out", str(tmp_path / "cls")])
        with pytest.raises(PermissionError, match="texture_losses.png' is read-only"):
            style_transfer.main(["--preset", "texture", "--out", str(tmp_path)])
        os.makedirs(tmp_path / "run")
        (tmp_path / "run" / "generator.npz").write_bytes(b"kept")
        os.chmod(tmp_path / "run" / "generator.npz", 0o444)
        with pytest.raises(PermissionError, match="generator.npz' is read-only"):
            gan_demo.main(["--out", str(tmp_path / "run"), "--overwrite"])
        assert (tmp_path / "run" / "generator.npz").read_bytes() == b"kept"
    finally:
        for path in tmp_path.rglob("*"):
            os.chmod(path, 0o755)


def test_damaged_options_file_is_reported(tmp_path, small_gan, monkeypatch, capsys):
    run = tmp_path / "run"
    small_gan(run)
    (run / "options.json").write_text('{"seed": ')
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    err = refused(capsys, gan_demo.main, ["--quick", "--batch-size", "16", "--out", str(run), "--resume"])
    assert "options.json is damaged" in err


# -- runs that never reached a checkpoint, resumes past the goal, overwriting ------------------

def interrupted_before_first_checkpoint(run, small_gan, monkeypatch):
    def killed(self):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(GANTrainer, "step", killed)
        with pytest.raises(KeyboardInterrupt):
            small_gan(run)
    assert os.listdir(run) == ["options.json"]


def test_run_stopped_before_its_first_checkpoint_is_started_by_a_plain_rerun(
        tmp_path, small_gan, monkeypatch, capsys):
    run = tmp_path / "run"
    interrupted_before_first_checkpoint(run, small_gan, monkeypatch)
    trainer = small_gan(run)
    assert trainer.iteration == 2 and (run / "checkpoint.npz").exists()
    assert "stopped before its first checkpoint; starting it again" in capsys.readouterr().out


UNSTARTED_REFUSALS = [  # extra flags, fragment
    (["--resume"], "stopped before its first checkpoint, so there is nothing to resume; start "
                   "it again without --resume"),
    (["--seed", "7"], "with other options: --seed 0 (run) vs 7 (now)"),
]


@pytest.mark.parametrize("extra, fragment", UNSTARTED_REFUSALS)
def test_run_stopped_before_its_first_checkpoint_tells_what_to_do(tmp_path, small_gan, monkeypatch,
                                                                  capsys, extra, fragment):
    run = tmp_path / "run"
    interrupted_before_first_checkpoint(run, small_gan, monkeypatch)
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    err = refused(capsys, gan_demo.main, ["--quick", "--batch-size", "16", "--out", str(run), *extra])
    assert fragment in err
    assert os.listdir(run) == ["options.json"]


def test_resume_below_the_current_iteration_changes_nothing(tmp_path, small_gan, capsys):
    run = tmp_path / "run"
    small_gan(run, "--sample-every", "1")
    before = {n: ((run / n).read_bytes(), (run / n).stat().st_mtime_ns) for n in os.listdir(run)}
    capsys.readouterr()
    for iters in ("1", "2"):
        trainer = small_gan(run, "--resume", "--iters", iters)
        assert trainer.iteration == 2
        assert (f"already at iteration 2 (asked for {iters}); nothing to do"
                in capsys.readouterr().out)
    after = {n: ((run / n).read_bytes(), (run / n).stat().st_mtime_ns) for n in os.listdir(run)}
    assert after == before


def test_overwrite_removes_the_old_runs_outputs_only(tmp_path, small_gan):
    run = tmp_path / "run"
    small_gan(run, "--sample-every", "1")
    assert (run / "samples_8x8_iter00001.png").exists()
    (run / "notes.txt").write_text("mine")
    (run / "samples_of_my_own.png").write_bytes(b"mine")
    small_gan(run, "--overwrite", "--iters", "1")
    assert sorted(os.listdir(run)) == sorted([
        "checkpoint.npz", "generator.npz", "losses.png", "notes.txt", "options.json", "run.json",
        "samples_4x4_final.png", "samples_8x8_final.png", "samples_of_my_own.png"])
    assert json.loads((run / "run.json").read_text())["iterations"] == 1


def test_a_saved_classifier_is_not_replaced_without_overwrite(tmp_path, monkeypatch, capsys):
    out = tmp_path / "cls"
    out.mkdir()
    (out / "classifier.npz").write_bytes(b"kept")
    monkeypatch.setattr(train_mnist_classifier, "load_mnist", no_work)
    err = refused(capsys, train_mnist_classifier.main, ["--out", str(out)])
    assert "classifier.npz already exists; replace it with --overwrite" in err
    assert (out / "classifier.npz").read_bytes() == b"kept"
    monkeypatch.setattr(train_mnist_classifier, "load_mnist", fake_mnist)
    train_mnist_classifier.main(["--out", str(out), "--overwrite", "--epochs", "1",
                                 "--batch-size", "32"])
    assert (out / "classifier.npz").read_bytes()[:2] == b"PK"


def test_every_preset_with_a_custom_style_gets_its_own_name(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(style_transfer, "load_squeezenet", lambda *a: None)
    monkeypatch.setattr(style_transfer, "image_path", lambda name, data: name)
    monkeypatch.setattr(style_transfer, "run", lambda label, settings, args, model: ran.append(
        (label, settings["style"], settings["content_layer"])))
    style_transfer.main(["--preset", "all", "--style", "mine.jpg", "--out", str(tmp_path)])
    labels = [label for label, _, _ in ran]
    assert labels == [f"{name}_custom" for name in sorted(style_transfer.PRESETS)]
    assert all(style == ["mine.jpg"] for _, style, _ in ran)
    ran.clear()
    style_transfer.main(["--preset", "texture", "--style", "mine.jpg", "--out", str(tmp_path)])
    assert [label for label, _, _ in ran] == ["custom"]


def test_style_transfer_output_problems_are_found_before_the_model_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(style_transfer, "load_squeezenet", no_work)
    monkeypatch.setattr(style_transfer, "image_path", lambda name, data: name)
    (tmp_path / "texture.png").mkdir()  # a folder where the result should go
    with pytest.raises(IsADirectoryError, match="texture.png' is a folder, not a file"):
        style_transfer.main(["--preset", "texture", "--out", str(tmp_path)])


def test_the_same_run_given_twice_is_scored_once(tmp_path, cheap_scoring, capsys):
    run = make_run(tmp_path / "gan_a")
    rows = evaluate_gan.main([str(run), str(run) + "/", "--classifier",
                              str(tmp_path / "classifier.npz"), "--table", str(tmp_path / "t.md")])
    assert len(rows) == 2 and cheap_scoring == [str(run)]
    assert "is given more than once; scoring it once" in capsys.readouterr().out


def test_score_table_that_is_a_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate_gan, "load_mnist", no_work)
    monkeypatch.setattr(evaluate_gan, "MNISTClassifier", no_work)
    run = make_run(tmp_path / "gan_a")
    (tmp_path / "table").mkdir()
    with pytest.raises(IsADirectoryError, match="table' is a folder, not a file"):
        evaluate_gan.main([str(run), "--table", str(tmp_path / "table"), "--classifier", "x"])


# -- the score table never replaces an input, nor a file it did not write ----------------------

def _table_cases(tmp_path):
    """(--table path, extra arguments, fragment of the refusal) for a run folder ``run`` and
    a classifier; each path exists (but run/checkpoint.npz, refused by its name alone)."""
    run, classifier = tmp_path / "gan_a", tmp_path / "classifier.npz"
    checkpoint = tmp_path / "gan_b_checkpoint.npz"
    save_npz_atomic(checkpoint, {"iteration": np.asarray(3)})
    (tmp_path / "notes.md").write_text("my notes\n")
    return [
        (classifier, [], "is the classifier (--classifier) itself"),
        (classifier, ["--overwrite"], "is the classifier (--classifier) itself"),
        (run / "run.json", [], "is a file of the run"),
        (run / "run.json", ["--overwrite"], "is a file of the run"),
        (run / "generator.npz", ["--overwrite"], "is a file of the run"),
        (run / "checkpoint.npz", [], "is a file of the run"),
        (checkpoint, [], "already exists and is not a score table written by this program"),
        (tmp_path / "notes.md", [], "Give another --table path, or --overwrite to replace"),
    ]


def test_score_table_that_is_an_input_or_a_foreign_file_is_refused_before_any_work(
        tmp_path, monkeypatch, capsys):
    run = make_run(tmp_path / "gan_a")
    classifier = tmp_path / "classifier.npz"
    save_npz_atomic(classifier, {"w": np.ones(2)})
    monkeypatch.setattr(evaluate_gan, "load_mnist", no_work)
    monkeypatch.setattr(evaluate_gan, "MNISTClassifier", no_work)
    for table, extra, fragment in _table_cases(tmp_path):
        before = table.read_bytes() if table.exists() else None
        err = refused(capsys, evaluate_gan.main, [str(run), "--classifier", str(classifier),
                                                  "--table", str(table), *extra])
        assert fragment in err, (table, extra, err)
        assert (table.read_bytes() if table.exists() else None) == before


def test_score_table_replaces_its_own_earlier_table_or_a_file_given_overwrite(tmp_path,
                                                                              cheap_scoring):
    run = make_run(tmp_path / "gan_a")
    notes, table = tmp_path / "notes.md", tmp_path / "scores.md"
    notes.write_text("my notes\n")
    argv = [str(run), "--classifier", str(tmp_path / "classifier.npz"), "-n", "3"]
    evaluate_gan.main(argv + ["--table", str(table)])
    first = table.read_text()
    assert first.startswith(evaluate_gan.TITLE + "\n| samples")
    table.write_text(first.replace("real test digits", "older scores"))
    evaluate_gan.main(argv + ["--table", str(table)])  # an earlier table: no --overwrite needed
    assert table.read_text() == first
    evaluate_gan.main(argv + ["--table", str(notes), "--overwrite"])
    assert notes.read_text() == first


# -- a tampered GAN checkpoint is refused, naming the file and the key -------------------------

TAMPERED = [  # key, value written, fragment of the message
    ("iteration", np.asarray(-5), "'iteration' is -5 (dtype int64), expected a single "
                                  "integer >= 0"),
    ("iteration", np.asarray(2.5), "'iteration' is 2.5 (dtype float64), expected a single "
                                   "integer >= 0"),
    ("iteration", np.asarray([2, 2]), "'iteration' is an array of shape (2,) (dtype int64)"),
    ("seed", np.asarray(-1), "'seed' is -1"),
    ("batch_size", np.asarray(0), "'batch_size' is 0 (dtype int64), expected a single "
                                  "integer >= 1"),
    ("variant", np.asarray("bigan"), "'variant' is 'bigan' (dtype <U5)"),
    ("variant", np.asarray(3), "expected one of vanilla, lsgan, dcgan, wgan-gp"),
    ("d_loss", np.zeros(5), "'d_loss' is an array of shape (5,) (dtype float64), "
                            "expected 2 losses (one per iteration) as floats"),
    ("g_loss", np.zeros((2, 1)), "'g_loss' is an array of shape (2, 1)"),
]


@pytest.mark.parametrize("key, value, fragment", TAMPERED,
                         ids=["iteration -5", "iteration 2.5", "iteration array", "seed -1",
                              "batch size 0", "unknown variant", "variant a number",
                              "d_loss too long", "g_loss 2-D"])
def test_tampered_checkpoint_is_refused_before_the_data_is_read(tmp_path, small_gan, monkeypatch,
                                                                capsys, key, value, fragment):
    run = tmp_path / "run"
    small_gan(run)  # 2 iterations
    ckpt = run / "checkpoint.npz"
    state = dict(np.load(ckpt))
    state[key] = value
    save_npz_atomic(ckpt, state)
    capsys.readouterr()
    monkeypatch.setattr(gan_demo, "load_mnist", no_work)
    with pytest.raises(ValueError, match=re.escape(f"GANTrainer: the checkpoint {str(ckpt)!r} is "
                                                   "damaged or was edited: ") + ".*"
                       + re.escape(fragment) + ".*Resume from an intact checkpoint"):
        gan_demo.main(["--quick", "--batch-size", "16", "--iters", "4", "--out", str(run),
                       "--resume"])
    assert "resumed at iteration" not in capsys.readouterr().out
    trainer = GANTrainer("vanilla", np.zeros((32, 784), np.float32), batch_size=16)
    with pytest.raises(ValueError, match=re.escape(fragment)):  # loading it directly too
        trainer.load(ckpt)
    assert trainer.iteration == 0


# -- a run that cannot start leaves no empty folder --------------------------------------------

def _no_data(*args, **kwargs):
    from models.data import DataNotFoundError
    raise DataNotFoundError("MNIST not found")


def _damaged_data(*args, **kwargs):
    from tinygrad_cs.io import DamagedFileError
    raise DamagedFileError("the MNIST file 'x' is damaged")


FAILED_STARTS = [  # load_mnist stand-in, error, fragment
    (_no_data, OSError, "MNIST not found"),
    (_damaged_data, ValueError, "is damaged"),
    (lambda *a, **k: {"x_train": np.zeros((8, 28, 28), np.uint8)}, ValueError,
     "8 images are fewer than one batch of 16"),
]


@pytest.mark.parametrize("load, error, fragment", FAILED_STARTS, ids=["no data", "damaged data",
                                                                        "batch too large"])
def test_a_run_that_cannot_start_leaves_no_folder(tmp_path, monkeypatch, load, error, fragment):
    monkeypatch.setattr(gan_demo, "load_mnist", load)
    out = tmp_path / "new" / "run"
    with pytest.raises(error, match=fragment):
        gan_demo.main(["--quick", "--batch-size", "16", "--out", str(out)])
    assert not (tmp_path / "new").exists() and not out.exists()
