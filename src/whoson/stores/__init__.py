"""Event stores: one small interface, one module per backend.

``open_store(url)`` picks the backend from a URL (``memory:``,
``sqlite:///file.db``, ``postgresql://...``); the PostgreSQL store needs the
``[postgres]`` extra and is imported only when asked for.
"""

from whoson.stores.base import Store, StoredEvent, StoreSettings
from whoson.stores.memory import MemoryStore
from whoson.stores.sqlite import SQLiteStore
from whoson.stores.url import open_store

__all__ = ["MemoryStore", "SQLiteStore", "Store", "StoreSettings", "StoredEvent", "open_store"]
