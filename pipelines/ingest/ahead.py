"""Work ahead on a second core: the next item of an iterator made in a background thread.

The registry loader reads and parses an export's next chunk while this thread validates the
current one. Polars, DuckDB and Arrow release the GIL, so the two overlap on two cores.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def made_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of `items` in order, each made in a background thread while the caller works
    on the one before (at most `depth` waiting). An exception raised while making an item is
    raised here, where that item would have been; a caller that stops early stops the thread."""
    made: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def make() -> None:
        try:
            for item in items:
                if not _put(made, item, stop):
                    return
            _put(made, _DONE, stop)
        except BaseException as error:  # handed to the caller, which raises it
            _put(made, _Failed(error), stop)
        finally:
            close = getattr(items, "close", None)  # a generator's own clean-up (a nested made_ahead's thread)
            if close is not None:
                close()

    worker = threading.Thread(target=make, name="made-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = made.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


def _put(made: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Put `item` once there is room; False when the caller has stopped."""
    while not stop.is_set():
        try:
            made.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
