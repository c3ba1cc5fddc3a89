"""whoson: Who's On for any website backend."""

from whoson.clock import Clock, FixedClock, SystemClock
from whoson.core.errors import ConfigError, ConflictError, InvalidEvent, StoreError, WhosonError
from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.settings import RatingScale
from whoson.engines import report
from whoson.live import LiveConfig, LiveView
from whoson.logfile import LogError, LogFormatError, iter_log, read_events, write_log
from whoson.metrics.report import Report
from whoson.rules import Invite, Limits, Rule, RuleEngine, ShowMessage, load_rules
from whoson.sim import SimConfig, simulate
from whoson.stores import MemoryStore, SQLiteStore, Store, open_store
from whoson.tracker import LoadResult, Tracker

__all__ = [
    "Clock",
    "ConfigError",
    "ConflictError",
    "Event",
    "FixedClock",
    "InvalidEvent",
    "Invite",
    "Limits",
    "LiveConfig",
    "LiveView",
    "LoadResult",
    "LogError",
    "LogFormatError",
    "MemoryStore",
    "RatingScale",
    "Report",
    "Rule",
    "RuleEngine",
    "SQLiteStore",
    "ShowMessage",
    "SimConfig",
    "Store",
    "StoreError",
    "SystemClock",
    "Tracker",
    "WhosonError",
    "iter_log",
    "load_rules",
    "open_store",
    "parse_event",
    "read_events",
    "report",
    "simulate",
    "write_log",
]

__version__ = "0.1.0.dev0"
