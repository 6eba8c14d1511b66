"""Progress inside a long stage (files n/N while ingesting, models n/M while dbt builds).

A stage reports through `report()`; whoever runs the refresh in this process (the CLI's
progress bar, a benchmark) listens with `listening()`. In a run launched by the Dagster
daemon nobody listens and the stages' own log lines (the UI) are the progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int, int], None]  # (what, done, total)
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def report(what: str, done: int, total: int) -> None:
    for listener in list(_listeners):
        listener(what, done, total)
