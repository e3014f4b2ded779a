"""A small text progress bar (no dependency): ``for x in progress(items, desc="epoch 1")``.

Shows done/total, percent, rate, elapsed and remaining time, and the latest values passed
to ``bar.set(loss=...)``.  On a terminal it redraws one line; when output goes to a file or
a CI log it prints a line every ``log_every`` seconds instead.
"""
import sys
import time


def _fmt_amount(n, unit):
    """A count, or with unit="B" a number of bytes as kB or MB."""
    if unit != "B":
        return f"{n}"
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _fmt_time(s):
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class progress:
    def __init__(self, iterable=None, total=None, desc="", width=28, file=None, log_every=10.0,
                 disable=False, initial=0, unit="it"):
        self.iterable = iterable
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.desc, self.width, self.file = desc, width, file or sys.stderr
        self.tty = hasattr(self.file, "isatty") and self.file.isatty()
        self.log_every, self.disable = log_every, disable
        self.n, self.values = initial, {}
        self.initial = initial  # work done before this bar started (a resumed run)
        self.unit = unit        # "it" (iterations) or "B" (bytes, shown as kB/MB)
        self.start = self.last_draw = time.perf_counter()

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set(self, **values):
        """Show these values (e.g. losses) after the bar."""
        self.values.update(values)

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if self.tty and now - self.last_draw > 0.1 or (not self.tty and now - self.last_draw > self.log_every):
            self.draw(end="\r" if self.tty else "\n")

    def line(self):
        elapsed = time.perf_counter() - self.start
        rate = (self.n - self.initial) / elapsed if elapsed > 0 else 0.0
        parts = [self.desc] if self.desc else []
        if self.total:
            frac = min(self.n / self.total, 1.0)
            filled = int(frac * self.width)
            parts.append(f"{frac:4.0%} |{'#' * filled}{'.' * (self.width - filled)}| "
                         f"{_fmt_amount(self.n, self.unit)}/{_fmt_amount(self.total, self.unit)}")
            eta = (self.total - self.n) / rate if rate > 0 else 0
            parts.append(f"[{_fmt_time(elapsed)}<{_fmt_time(eta)}, {self._rate(rate)}]")
        else:
            parts.append(f"{_fmt_amount(self.n, self.unit)} [{_fmt_time(elapsed)}, "
                         f"{self._rate(rate)}]")
        parts += [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                  for k, v in self.values.items()]
        return " ".join(parts)

    def _rate(self, rate):
        if self.unit == "B":
            return f"{rate / 1e6:.1f} MB/s"
        return f"{rate:.2f}{self.unit}/s"

    def draw(self, end="\r"):
        if self.disable:
            return
        self.last_draw = time.perf_counter()
        self.file.write(self.line().ljust(100 if self.tty else 0) + end)
        self.file.flush()

    def close(self):
        if self.n or self.total == 0:
            self.draw(end="\n")
            self.disable = True  # closing twice draws once
