"""whoson: Who's On for any website backend."""

from whoson.clock import Clock, FixedClock, SystemClock
from whoson.core.errors import ConfigError, ConflictError, InvalidEvent, StoreError, WhosonError
from whoson.core.events import Event, RatingScale, parse_event
from whoson.metrics.report import Report
from whoson.stores import MemoryStore, SQLiteStore, Store, open_store
from whoson.tracker import LoadResult, Tracker

__all__ = [
    "Clock",
    "ConfigError",
    "ConflictError",
    "Event",
    "FixedClock",
    "InvalidEvent",
    "LoadResult",
    "MemoryStore",
    "RatingScale",
    "Report",
    "SQLiteStore",
    "Store",
    "StoreError",
    "SystemClock",
    "Tracker",
    "WhosonError",
    "open_store",
    "parse_event",
]

__version__ = "0.1.0.dev0"
