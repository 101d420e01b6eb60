"""Per-process caches of rarely changing data, invalidated through version counters.

A version counter lives in Django's default cache when that is shared (Redis, when REDIS_URL is
set), so a bump is seen by every process at its next request. Otherwise the default cache is the
process-local locmem and the counters live in a dict of this process: a bump reaches only its
own process, so entries there also expire after the memo's `local_max_age` seconds (other
processes of a single-machine deployment catch up within that time).

`bump` increments at once (the same process, and tests inside a transaction, see the change)
and again when the transaction commits, so a process that rebuilt its entry from not yet
committed rows in between does not keep it.
"""

import secrets
import threading
import time

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.db import transaction

PREFIX = "costsite:version:"

_shared: bool | None = None


def shared() -> bool:
    """Whether version bumps reach every process (a cache outside the process). Decided once
    (a cache handler lookup goes through a thread-local on every call), again after CACHES
    changes."""
    global _shared
    if _shared is None:
        _shared = not isinstance(caches["default"], LocMemCache)
    return _shared


def _caches_changed(setting, **kwargs):
    global _shared
    if setting == "CACHES":
        _shared = None


setting_changed.connect(_caches_changed, dispatch_uid="costsite-cache-shared")


# The counters when the default cache is not shared: locmem would hold them no further, at the
# cost of a key check, a lock and unpickling on every read.
_local_versions: dict[str, int] = {}
_local_lock = threading.Lock()


def version(name: str) -> int:
    """The current version of `name`. A counter that is missing (never set, evicted, the cache
    flushed) starts again at a random number, so it does not meet an old entry's version."""
    if not shared():
        current = _local_versions.get(name)
        if current is None:
            with _local_lock:
                current = _local_versions.setdefault(name, secrets.randbits(62))
        return current
    key = PREFIX + name
    current = cache.get(key)
    if current is None:
        start = secrets.randbits(62)
        cache.add(key, start, timeout=None)
        current = cache.get(key)
    return start if current is None else current  # None: a cache that keeps nothing


def _increment(name: str) -> None:
    if not shared():
        with _local_lock:
            _local_versions[name] = _local_versions.get(name, secrets.randbits(62)) + 1
        return
    try:
        cache.incr(PREFIX + name)
    except ValueError:  # missing: a new random start is as good as an increment
        cache.delete(PREFIX + name)


def bump(name: str) -> None:
    """Invalidate every process's entries built under `name`'s current version."""
    _increment(name)
    transaction.on_commit(lambda: _increment(name))


class VersionedMemo:
    """Values by key, each kept while the version it was built under is current.

    `get(key, version, build)` returns the kept value or calls `build()` and keeps its result.
    The oldest entries beyond `size` are dropped."""

    def __init__(self, size: int, local_max_age: float):
        self.size = size
        self.local_max_age = local_max_age
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get(self, key, version, build):
        now = time.monotonic()
        hit = self.entries.get(key)
        if (
            hit is not None
            and hit[0] == version
            and (shared() or now - hit[1] < self.local_max_age)
        ):
            return hit[2]
        value = build()
        with self.lock:
            self.entries.pop(key, None)
            self.entries[key] = (version, now, value)
            while len(self.entries) > self.size:
                del self.entries[next(iter(self.entries))]
        return value

    def clear(self):
        with self.lock:
            self.entries.clear()
