"""What a process keeps of its own recent reads: a small map that forgets the least recently used.

For values that cannot go stale while kept (a ZIP's geography; an answer filed under the schedule
version it was read at; the admin's app list filed under who may see it; a chart drawn for its
figures): it saves asking the database or Redis again, and is never a cache that
needs invalidating.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()


class RecentlyUsed:
    """At most `size` values by key, the least recently used dropped first. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value kept under `key` (None may be a value: pass a `default` to tell), else `default`."""
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key]

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under `key`, else `make()`'s, kept from now on (made outside the lock:
        two threads may both make it; the values are the same)."""
        found = self.get(key, _MISSING)
        if found is _MISSING:
            found = make()
            self.put(key, found)
        return found

    def get_many(self, keys: Iterable[Hashable]) -> dict[Any, Any]:
        with self._lock:
            found = {key: self._items[key] for key in keys if key in self._items}
            for key in found:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        self.put_many({key: value})

    def put_many(self, items: Mapping[Any, Any]) -> None:
        with self._lock:
            for key, value in items.items():
                self._items[key] = value
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
