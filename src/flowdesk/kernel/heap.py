"""The long-lived objects of a process, out of the cyclic garbage collector's way.

A server, worker or import builds its routes, compiled templates, table metadata, app
specs and org caches once, then makes and drops small objects by the million. CPython's
collector walks every tracked object of the oldest generation on each full collection,
so that start-up heap was walked again and again: a third of a 100k-row import's CPU
(bench/record_import.py) went to it. `gc.freeze()` moves what is alive at that moment
into the permanent generation, which the collector never walks; cycles made later are
collected as before. (CPython's documentation recommends it after start-up, before a
pre-fork server forks.)
"""

from __future__ import annotations

import gc

__all__ = ["freeze_long_lived"]


def freeze_long_lived() -> None:
    """Collect what is garbage now, then freeze every object still alive."""
    gc.collect()
    gc.freeze()
