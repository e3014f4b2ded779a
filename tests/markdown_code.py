"""Run the ```python blocks of a Markdown file, as a reader pasting them one by one would.

Used by test_readme.py and test_docs.py.  All blocks of one file share one namespace, so a
later block can use what an earlier one defined.  Each block is compiled with the Markdown
file as its file name and padded so that a traceback's line numbers are the Markdown
file's own line numbers.  An ```output block that directly follows a python block is what
that block prints: it is compared with the real output, so the page cannot go stale.
(GitHub shows it as plain text; a ```text block is never checked, for output that differs
from machine to machine.)

It is also a small program that refreshes a chapter's committed figures:

    python tests/markdown_code.py docs/learn/01-the-graph-and-the-backward-walk.md

runs the chapter's blocks in a temporary folder and copies the PNGs they wrote under
``figures/`` to ``docs/images/learn/``.
"""
import contextlib
import difflib
import io
import os
import pathlib
import re
import shutil
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$\n?", flags=re.S | re.M)


class OutputMismatch(AssertionError):
    """A python block printed something other than the ```output block under it."""


def code_blocks(path):
    """[(first line number, code, expected output or None), ...] of the python blocks."""
    text = pathlib.Path(path).read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    blocks = []
    for k, m in enumerate(fences):
        if m.group(1) != "python":
            continue
        expected = None
        if k + 1 < len(fences):
            after = fences[k + 1]
            if after.group(1) == "output" and not text[m.end():after.start()].strip():
                expected = after.group(2)
        blocks.append((text.count("\n", 0, m.start(2)) + 1, m.group(2), expected))
    return blocks


def python_blocks(path):
    """[(first line number, code), ...] of the ```python blocks of a Markdown file."""
    return [(line, code) for line, code, _ in code_blocks(path)]


class _Tee(io.StringIO):
    """Keeps what is printed and passes it on to the real stdout."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def write(self, s):
        self.stream.write(s)
        return super().write(s)


def _same(printed, expected):
    lines = lambda s: [line.rstrip() for line in s.strip("\n").splitlines()]  # noqa: E731
    return lines(printed) == lines(expected)


def run_blocks(path, shared=True):
    """Execute every python block of ``path`` in order.  ``shared``: all in one namespace,
    else each block in a fresh one.  Returns the last namespace."""
    namespace = {"__name__": "__main__"}
    for first_line, code, expected in code_blocks(path):
        if not shared:
            namespace = {"__name__": "__main__"}
        padded = "\n" * (first_line - 1) + code  # tracebacks then point into the .md file
        out = _Tee(sys.stdout)
        with contextlib.redirect_stdout(out):
            exec(compile(padded, str(path), "exec"), namespace)
        if expected is not None and not _same(out.getvalue(), expected):
            diff = "\n".join(difflib.unified_diff(
                expected.strip("\n").splitlines(), out.getvalue().strip("\n").splitlines(),
                "shown in the page", "printed by the code", lineterm=""))
            raise OutputMismatch(f"{path}, block at line {first_line}: the output shown under "
                                 f"it is not what it prints:\n{diff}")
    return namespace


def refresh_figures(markdown, images_dir):
    """Run ``markdown``'s blocks in a temporary folder; copy the figures/*.png they write
    into ``images_dir``.  Returns the copied file names."""
    import matplotlib
    matplotlib.use("Agg")
    markdown = pathlib.Path(markdown).resolve()
    images_dir = pathlib.Path(images_dir).resolve()
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            run_blocks(markdown)
        finally:
            os.chdir(here)
        names = sorted(p.name for p in pathlib.Path(tmp, "figures").glob("*.png"))
        for name in names:
            shutil.copyfile(pathlib.Path(tmp, "figures", name), images_dir / name)
    return names


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tests/markdown_code.py docs/learn/CHAPTER.md [...]")
    root = pathlib.Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))  # `import tinygrad_cs`, `models`, `layers` from this checkout
    for chapter in sys.argv[1:]:
        copied = refresh_figures(chapter, root / "docs" / "images" / "learn")
        print(f"{chapter}: {', '.join(copied) or 'no figures'}")
