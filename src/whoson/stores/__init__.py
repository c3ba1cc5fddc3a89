"""Event stores: one small interface, one module per backend."""

from whoson.stores.base import Store, StoredEvent, StoreSettings

__all__ = ["Store", "StoreSettings", "StoredEvent"]
