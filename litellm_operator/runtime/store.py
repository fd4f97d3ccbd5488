"""Thread-free object cache with indexes, filled by reflectors and read by controllers.

Keys are `"namespace/name"` (just `"name"` for cluster-scoped objects), as in client-go. An
indexer maps an object to a list of index values; `by_index(name, value)` returns every object
whose indexer produced that value. The store keeps the dicts it is given and never copies them,
so callers must treat returned objects as read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from litellm_operator.runtime.logging import log_fields

logger = logging.getLogger(__name__)

IndexFunc = Callable[[dict[str, Any]], list[str]]

NAMESPACE_INDEX = "namespace"


def object_key(obj: Mapping[str, Any]) -> str:
    """Return the cache key of an object: "namespace/name", or "name" without a namespace."""
    metadata = obj.get("metadata", {})
    namespace = metadata.get("namespace")
    name = metadata["name"]
    return f"{namespace}/{name}" if namespace else name


def split_key(key: str) -> tuple[str | None, str]:
    """Split a cache key into (namespace, name); namespace is None for cluster-scoped keys."""
    namespace, _, name = key.rpartition("/")
    return (namespace or None), name


def index_by_namespace(obj: dict[str, Any]) -> list[str]:
    namespace = obj.get("metadata", {}).get("namespace")
    return [namespace] if namespace else []


class Store:
    """Objects by key, plus one reverse index per indexer."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None):
        # _items: key → the latest object seen for that key.
        self._items: dict[str, dict[str, Any]] = {}
        # _indexers: index name → function producing the index values of an object.
        self._indexers: dict[str, IndexFunc] = {}
        # _indices: index name → index value → keys whose object produced that value.
        self._indices: dict[str, dict[str, set[str]]] = {}
        self.add_indexers({NAMESPACE_INDEX: index_by_namespace, **(indexers or {})})

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add indexers and index the objects already stored; a name may be added only once."""
        for name, func in indexers.items():
            if name in self._indexers:
                raise ValueError(f"indexer {name!r} already exists")
            self._indexers[name] = func
            self._indices[name] = {}
            for key, obj in self._items.items():
                self._index_one(name, key, obj)

    def add(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Insert or replace an object; return the previous object under its key, if any."""
        key = object_key(obj)
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name in self._indexers:
            self._index_one(name, key, obj)
        return old

    update = add

    def delete(self, obj: Mapping[str, Any]) -> dict[str, Any] | None:
        """Remove an object by its key; return the stored object, if any."""
        return self.delete_key(object_key(obj))

    def delete_key(self, key: str) -> dict[str, Any] | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def get(self, key: str) -> dict[str, Any] | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list(self) -> list[dict[str, Any]]:
        return list(self._items.values())

    def list_keys(self) -> list[str]:
        return list(self._items)

    def by_index(self, index_name: str, value: str) -> list[dict[str, Any]]:
        """Return the objects whose indexer `index_name` produced `value`."""
        try:
            index = self._indices[index_name]
        except KeyError:
            raise KeyError(f"index {index_name!r} does not exist") from None
        return [self._items[key] for key in sorted(index.get(value, ()))]

    def keys_in_namespace(self, namespace: str | None) -> set[str]:
        """Return the keys of one namespace, or every key when `namespace` is None."""
        if namespace is None:
            return set(self._items)
        return set(self._indices[NAMESPACE_INDEX].get(namespace, ()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def _index_one(self, name: str, key: str, obj: dict[str, Any]) -> None:
        for value in _index_values(self._indexers[name], obj):
            self._indices[name].setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: dict[str, Any]) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            for value in _index_values(func, obj):
                keys = index.get(value)
                if keys is None:
                    continue
                keys.discard(key)
                if not keys:
                    del index[value]


def _index_values(func: IndexFunc, obj: dict[str, Any]) -> Iterable[str]:
    # An index function that fails leaves the object out of that index rather than out of the
    # cache: a raising indexer must not stop the informer that feeds every controller.
    try:
        return list(func(obj) or ())
    except Exception as error:
        meta = obj.get("metadata") or {}
        logger.error(
            "index function failed; object left out of the index",
            extra=log_fields(namespace=meta.get("namespace", ""), object=meta.get("name", ""), error=repr(error)),
        )
        return ()
