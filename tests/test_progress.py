"""The text progress bar."""
import io

from tinygrad_cs.progress import progress


def test_progress_line_counts_values_and_resumed_work():
    out = io.StringIO()
    bar = progress(range(4), desc="train", file=out)
    for _ in bar:
        bar.set(loss=0.5, step="a")
    text = out.getvalue()
    assert text.endswith("\n") and "100%" in text and "4/4" in text
    assert "loss=0.5" in text and "step=a" in text
    resumed = progress(total=10, initial=6, file=io.StringIO())
    resumed.update()
    assert "7/10" in resumed.line() and " 70%" in resumed.line()
    resumed.close()
    resumed.close()  # a second close draws nothing more
    assert resumed.file.getvalue().count("7/10") == 1


def test_a_download_bar_counts_bytes_in_megabytes():
    import io
    from tinygrad_cs.progress import progress
    out = io.StringIO()
    with progress(total=4_954_871, desc="downloading", file=out, unit="B") as bar:
        bar.update(4_954_871)
    line = out.getvalue()
    assert "5.0 MB/5.0 MB" in line and "MB/s" in line and "it/s" not in line
