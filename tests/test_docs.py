"""The course in docs/learn/ must run as written: every ```python block of every chapter,
in order, each chapter's blocks in one namespace, in a fresh folder (figures go there);
an ```output block right under a python block must be what that block prints.

Every block must also paste into a plain ``python`` prompt (3.10 to 3.12): no blank line
inside an indented body, and a blank line after each top-level ``for``/``def``/``with``...

Also: every picture a chapter shows exists and is small, and every figure a chapter's code
writes (``figures/NAME.png``) has its committed copy ``docs/images/learn/NAME.png``.
"""
import codeop
import os
import pathlib
import re
import warnings

import matplotlib
import pytest

from markdown_code import python_blocks, run_blocks

matplotlib.use("Agg")  # no display: figures are only written to files

ROOT = pathlib.Path(__file__).resolve().parents[1]
LEARN = ROOT / "docs" / "learn"
IMAGES = ROOT / "docs" / "images" / "learn"
CHAPTERS = sorted(LEARN.glob("*.md"))
DATA = os.environ.get("TINYGRAD_CS_DATA")
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def needs_data(path) -> bool:
    """A chapter whose code reads the data directory (SqueezeNet weights, MNIST, images)."""
    return any("TINYGRAD_CS_DATA" in code for _, code in python_blocks(path))


def test_the_course_has_its_chapters():
    names = {p.name for p in CHAPTERS}
    for name in ("README.md", "01-the-graph-and-the-backward-walk.md", "04-style-transfer.md",
                 "05-gans.md"):
        assert name in names, f"docs/learn/{name} is missing"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_code_runs(chapter, tmp_path, monkeypatch):
    if needs_data(chapter) and not DATA:
        pytest.skip("needs TINYGRAD_CS_DATA (CI sets it)")
    import matplotlib.pyplot as plt
    monkeypatch.chdir(tmp_path)
    try:
        run_blocks(chapter)
    finally:
        plt.close("all")
    written = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    missing = [name for name in written if not (IMAGES / name).exists()]
    assert not missing, (f"{chapter.name} writes figures/{missing[0]} but docs/images/learn/ has "
                         "no copy; run: python tests/markdown_code.py docs/learn/" + chapter.name)


def paste_problems(code):
    """Where pasting ``code`` into the interactive prompt fails: [(line index, message)].

    The prompt reads one line at a time and runs a statement as soon as it is complete; a
    compound statement (``def``, ``for``, ...) is complete at the first blank line.  So a
    blank line inside a body ends it early (the next indented line is an IndentationError),
    and a top-level line straight after a body, with no blank line between, is a
    SyntaxError.  ``codeop`` is the module that makes exactly this decision for the prompt.
    """
    problems, pending = [], []
    for k, line in enumerate(code.split("\n") + [""]):   # + "": the Enter after the paste
        pending.append(line)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # e.g. SyntaxWarning; only errors matter
                done = codeop.compile_command("\n".join(pending), "<stdin>", "single")
        except (SyntaxError, OverflowError, ValueError) as e:
            problems.append((k, f"{type(e).__name__}: {e.msg if hasattr(e, 'msg') else e}"))
            pending = []
            continue
        if done is not None:
            pending = []
    return problems


def test_paste_problems_finds_both_mistakes():
    inside = "def f():\n    a = 1\n\n    return a\n"
    after = "for i in range(2):\n    print(i)\nprint('done')\n"
    fine = "def f():\n    a = 1\n    return a\n\nprint(f())\n"
    assert paste_problems(inside)[0][0] == 3
    assert paste_problems(after)[0][0] == 2
    assert paste_problems(fine) == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_blocks_paste_into_a_plain_prompt(chapter):
    for first_line, code in python_blocks(chapter):
        problems = paste_problems(code)
        if problems:
            k, message = problems[0]
            raise AssertionError(
                f"{chapter.name}, line {first_line + k}: pasting this block into a plain python "
                f"prompt fails ({message}); remove blank lines inside indented bodies and put "
                "one blank line after each top-level compound statement")


def test_readme_blocks_paste_into_a_plain_prompt():
    readme = LEARN.parent.parent / "README.md"
    test_chapter_blocks_paste_into_a_plain_prompt(readme)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_pictures_exist_and_are_small(chapter):
    for link in IMAGE_LINK.findall(chapter.read_text(encoding="utf-8")):
        if "://" in link:
            continue
        target = (chapter.parent / link).resolve()
        assert target.is_file(), f"{chapter.name} shows {link}, which does not exist"
        if target.parent == IMAGES:
            size = target.stat().st_size
            assert size < 150_000, f"{link} is {size} bytes; keep figures under 150 KB"
