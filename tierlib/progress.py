"""Progress of long steps (rating, fitting, bootstraps): one callback, shown two ways.

A long analysis takes ``progress=``, a callable ``progress(done, total, what)`` called before
each step (``done`` steps finished of ``total``; ``what`` names the step about to run) and once
at the end (``done == total``). :func:`print_progress` prints plain lines, which a notebook run
by papermill logs; :func:`progress_bar` shows a tqdm bar on stderr for the command line.

>>> steps = []
>>> report(lambda d, t, w: steps.append((d, t, w)), 0, 2, "rating")
>>> report(None, 1, 2, "nothing happens without a callback")
>>> steps
[(0, 2, 'rating')]
>>> print_progress(1, 3, "estimating the drop effect (200 bootstraps)")
[1/3] estimating the drop effect (200 bootstraps)

A step named by a :class:`tierlib.terms.Said` is printed in a report's language by
:func:`progress_printer`:

>>> from tierlib.terms import say
>>> progress_printer("zh")(1, 3, say("progress.estimating_effect", n=200))
[1/3] 估计降级效应（200 次自助抽样）
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = ["Progress", "print_progress", "progress_bar", "progress_printer", "report"]

#: ``progress(done, total, what)``
Progress = Callable[[int, int, str], None]


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(done, total, what)


def print_progress(done: int, total: int, what: str) -> None:
    """Print ``[done/total] what`` (flushed): progress lines a papermill log keeps."""
    print(f"[{done}/{total}] {what}", flush=True)


def progress_printer(lang: str = "en") -> Progress:
    """:func:`print_progress` with each step said in ``lang`` (``en``, ``zh``)."""
    from tierlib.terms import check_lang, said

    check_lang(lang)

    def printer(done: int, total: int, what: str) -> None:
        print_progress(done, total, said(what, lang))

    return printer


@contextmanager
def progress_bar(enabled: bool | None = None, *, desc: str = "tierlib") -> Iterator[Progress | None]:
    """A tqdm bar on stderr as a :data:`Progress` callback; ``None`` when not enabled.

    ``enabled=None`` shows the bar only when stderr is a terminal (not in a log file or a pipe).

    >>> with progress_bar(False) as p:
    ...     p is None
    True
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = None

    def step(done: int, total: int, what: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, unit="step")
        bar.set_postfix_str(what, refresh=False)
        bar.update(done - bar.n)

    try:
        yield step
    finally:
        if bar is not None:
            bar.close()
