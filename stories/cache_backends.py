"""A local-memory cache capped in bytes as well as in entries.

Django's LocMemCache counts entries only: 5,000 whole pages of about 75 KB each are
some 375 MB in every worker. ``ByteCappedLocMemCache`` keeps the pickled size of
what it holds (it stores pickles already, so the size is known for free) and
evicts the least recently used entries until a new one fits under ``MAX_BYTES``
(OPTIONS; default 64 MB). An entry bigger than the cap is not stored at all.

The byte count lives beside LocMemCache's own shared dictionaries (one per
LOCATION, shared by every thread's cache object) and changes only under their lock.
"""

# It unpickles only what it pickled itself, as LocMemCache does.
import pickle  # nosec B403

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_totals = {}  # LOCATION -> [bytes held]


class ByteCappedLocMemCache(LocMemCache):
    def __init__(self, name, params):
        super().__init__(name, params)
        self.max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", DEFAULT_MAX_BYTES))
        self._total = _totals.setdefault(name, [0])

    @property
    def bytes_held(self):
        return self._total[0]

    # LocMemCache calls these three with its lock held; every change of size goes through them.

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        self._delete(key)  # a replaced entry's size leaves the count
        if len(value) > self.max_bytes:
            return
        while self._cache and self._total[0] + len(value) > self.max_bytes:
            self._pop_least_recent()
        super()._set(key, value, timeout)
        self._total[0] += len(value)

    def _delete(self, key):
        value = self._cache.get(key)
        if not super()._delete(key):
            return False
        self._total[0] -= len(value)
        return True

    def _cull(self):  # over MAX_ENTRIES: drop a third (CULL_FREQUENCY), least recently used first
        if self._cull_frequency == 0:
            self._cache.clear()
            self._expire_info.clear()
            self._total[0] = 0
            return
        for _ in range(len(self._cache) // self._cull_frequency):
            self._pop_least_recent()

    def _pop_least_recent(self):
        key, value = self._cache.popitem()  # LocMemCache keeps the most recently used first
        self._expire_info.pop(key, None)
        self._total[0] -= len(value)

    def incr(self, key, delta=1, version=None):
        # LocMemCache.incr rewrites the pickle in place, outside _set: its new size is counted here.
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            # Safe to unpickle: only this cache's own pickles are stored here.
            new_value = pickle.loads(self._cache[key]) + delta  # noqa: S301  # nosec B301
            pickled = pickle.dumps(new_value, self.pickle_protocol)
            self._total[0] += len(pickled) - len(self._cache[key])
            self._cache[key] = pickled
            self._cache.move_to_end(key, last=False)
        return new_value

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._total[0] = 0
