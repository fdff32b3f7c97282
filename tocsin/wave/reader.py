"""The recipient file read and planned ahead of the wave by a thread: for a wave whose channel runs in the
wave's own process, or where fork is not available (otherwise the wave's worker process reads it:
tocsin.wave.worker). The items come back in order, and what the reading raised (an unreadable line, say)
is raised after the items read before it.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from queue import Full, Queue
from typing import Any, TypeVar

T = TypeVar("T")


def read_ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """`items`, produced by a thread up to `depth` ahead (where fork is not available): the file is read and
    planned while the wave waits on the database. What the thread raises is raised here, in order."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> None:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return
            except Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                put((True, item))
                if stop.is_set():
                    return
            put((False, None))
        except BaseException as error:
            put((False, error))

    thread = threading.Thread(target=produce, name="wave-reader", daemon=True)
    thread.start()
    try:
        while True:
            more, value = queue.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        thread.join()
