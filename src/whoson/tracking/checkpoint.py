"""Checkpoints: a tracker's state saved in its store, so that a new tracker starts without a replay.

A checkpoint is the report state (the projection and the incremental ledger,
caught up) and, when the tracker had built it, the live view, pickled into one
blob and kept in the store under the name :data:`NAME` with the store position
it covers (``store.save_checkpoint``). A tracker that opens the store
(:meth:`Follower.start <whoson.tracking.follower.Follower.start>`) restores it
and applies only the events stored after that position; anything that does not
match exactly is ignored and the store is replayed as before:

- the **version** (:func:`version_key`): the checkpoint format, the whoson
  version, the Python and sortedcontainers versions, a digest of the source of
  every module whose objects are in the blob or compute them (``whoson.core``,
  ``whoson.metrics``, ``whoson.live``, this module), and the settings the state
  depends on: the session timeout and the ledger's windows, the rating scale
  and the currency. The zone (``tz``) is not part of it: the state keeps UTC
  slots, and the ledger's day summaries are kept per zone name;
- the **position**: a checkpoint past the store's position, or whose first and
  last events are not the store's (the store was replaced), is ignored;
- the **blob**: a bad header, a failing decompression or unpickling is ignored;
- the **live view** is used only when its configuration equals the tracker's;
  otherwise it is built on first use from the restored projection's events (not
  by reading the store again). The rules engine is rebuilt from the restored
  projection (its state is the firings found in the events).

The blob is a pickle (protocol 5; zlib level 1 on request). Unpickling runs code named by
the blob: only classes and functions of whoson, sortedcontainers and a few
standard modules are accepted, but whoever can write the store can still shape
a tracker's state. Checkpoints are for a store you own; ``Tracker(...,
checkpoints=False)`` neither restores nor saves them.

>>> from whoson import Tracker
>>> from whoson.stores.memory import MemoryStore
>>> store = MemoryStore()
>>> tracker = Tracker(store)
>>> _ = tracker.record({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"})
>>> tracker.checkpoint().position
1
>>> Tracker(store).report(as_of="2026-03-02T00:00:00Z").visitors.total  # restored, not replayed
1
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import pickle
import sys
import zlib
from collections.abc import Callable, Iterator
from functools import cache
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs

from whoson.core.errors import StoreError
from whoson.core.events import NO_EXTRA, AutoMessageEvent, Event, HoldoutEvent, RequestEvent
from whoson.core.projection import Projection
from whoson.live import LiveView
from whoson.metrics.ledger import Ledger
from whoson.rules import RuleEngine

if TYPE_CHECKING:
    from whoson.tracking.follower import Follower

__all__ = ["AUTO_SAVE_AFTER", "FORMAT", "NAME", "CheckpointInfo", "restore", "save", "version_key"]

NAME = "tracker"
"""The name a tracker's checkpoint is saved under in its store."""

FORMAT = 1
"""The checkpoint format; raise it when the blob's layout changes."""

AUTO_SAVE_AFTER = 10_000
"""A tracker over a durable store saves a checkpoint when it closes if it applied at least this
many events since the checkpoint it restored or saved last, not counting the events it loaded
itself with :meth:`~whoson.Tracker.load` (see :meth:`whoson.Tracker.close`)."""

_MAGIC = b"WHOSONCK"
_RAW, _ZLIB = 0, 1
_PACKAGE = Path(__file__).resolve().parent.parent
# The packages whose objects are pickled, or whose code computes them (contributions, folds).
_STATE_CODE = ("core", "metrics", "live")
_FIRINGS = (AutoMessageEvent, HoldoutEvent, RequestEvent)
# Modules a checkpoint may name (restricted unpickling); everything whoson's own is allowed.
_MODULES = frozenset({"sortedcontainers.sortedlist", "sortedcontainers.sorteddict", "sortedcontainers.sortedset",
                      "datetime", "decimal", "zoneinfo", "collections", "copyreg"})
_BUILTINS = frozenset({"set", "frozenset", "dict", "list", "tuple", "bytes", "int", "float", "str", "bool",
                       "complex", "bytearray", "slice", "range"})


@attrs.frozen
class CheckpointInfo:
    """A checkpoint saved: the store ``position`` it covers and the blob's ``size`` in bytes."""

    position: int
    size: int


@cache
def code_digest() -> str:
    """A digest of the source of the packages the checkpointed state comes from. O(source) once."""
    digest = hashlib.sha256()
    files = [Path(__file__).resolve()]
    for package in _STATE_CODE:
        files.extend(sorted((_PACKAGE / package).rglob("*.py")))
    for path in files:
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:  # no source (a frozen build): the version string must do
            digest.update(b"?")
    return digest.hexdigest()


def version_key(follower: Follower) -> str:
    """The version a checkpoint of ``follower``'s state is saved with; a restore needs it equal. O(1).

    >>> from whoson import Tracker
    >>> Tracker().checkpoint_version == Tracker(tz="Asia/Tokyo").checkpoint_version
    True
    >>> Tracker().checkpoint_version == Tracker(session_timeout="10m").checkpoint_version
    False
    """
    import sortedcontainers

    from whoson import __version__

    reporter = follower.reporter
    settings = reporter.ledger.settings
    parts = (
        f"format={FORMAT}", f"whoson={__version__}", f"python={sys.version_info[0]}.{sys.version_info[1]}",
        f"sortedcontainers={sortedcontainers.__version__}", f"code={code_digest()}",
        f"session_timeout={reporter.defaults.session_timeout!r}",
        f"ledger={settings.session_timeout!r},{settings.attribution_window!r},{settings.fcr_window!r}",
        f"rating_scale={follower.ctx.rating_scale}", f"currency={follower.ctx.currency}",
    )
    return f"{FORMAT}:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


# -- saving --------------------------------------------------------------------------------------

def _event_classes() -> list[type[Event]]:
    """Every concrete event class (the attrs subclasses of :class:`Event`)."""
    found: list[type[Event]] = []
    pending = [Event]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    # attrs replaces each class by a slotted copy: the original may linger among the subclasses
    # until collected; only the class its module names is the real one.
    return [cls for cls in found
            if attrs.has(cls) and getattr(sys.modules.get(cls.__module__), cls.__qualname__, None) is cls]


def _make_builder(cls: type[Event]) -> tuple[str, Callable[..., Event], tuple[str, ...]]:
    """A module-level function building a ``cls`` from its field values, each set straight through
    its slot (no ``__init__``, no per-event dict): what a checkpoint calls for each event."""
    names = tuple(field.name for field in attrs.fields(cls))
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for index, name in enumerate(names):
        scope[f"_set{index}"] = getattr(cls, name).__set__
    args = ", ".join(f"a{index}" for index in range(len(names)))
    body = "".join(f"    _set{index}(o, a{index})\n" for index in range(len(names)))
    function = f"_build_{cls.__name__}"
    exec(f"def {function}({args}):\n    o = _new(_cls)\n{body}    return o\n", scope)
    builder: Callable[..., Event] = scope[function]
    builder.__module__, builder.__qualname__ = __name__, function
    return function, builder, names


# Per event class: its builder (a global of this module, so that pickle names it) and fields.
_BUILDERS: dict[type[Event], tuple[Callable[..., Event], tuple[str, ...]]] = {}
for _cls in _event_classes():
    _function, _builder, _names = _make_builder(_cls)
    if _function in globals():
        raise RuntimeError(f"two event classes named {_cls.__name__}")
    globals()[_function] = _builder
    _BUILDERS[_cls] = (_builder, _names)


def _alias(event: Event) -> Event:
    """The event itself: a second copy of an event (same id) is pickled as the first one."""
    return event


def _view(state: dict[str, Any]) -> LiveView:
    """A live view rebuilt from its attributes (without an invite model, as a replay has none)."""
    view = LiveView.__new__(LiveView)
    view.__dict__.update(state)
    view.invite_model = None
    return view


def _no_extra() -> Any:
    """The shared empty ``extra`` of events (pickled by reference, once)."""
    return NO_EXTRA


def _mapping(values: dict[str, Any]) -> Any:
    """A read-only mapping (an event's ``extra``)."""
    return MappingProxyType(values)


class _Pickler(pickle.Pickler):
    """Events as their field values, the shared empty ``extra`` by reference, views without models.

    A per-type dispatch table (consulted by the C pickler for those types only), so that the
    millions of other objects are pickled without a Python call each.
    """

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=5)
        # The first object pickled for each event id: a live view built by reading the store holds
        # other objects for the projection's events; the restored state shares them.
        first_of: dict[str, Event] = {}
        table: dict[type, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
        for kind, (builder, names) in _BUILDERS.items():
            table[kind] = _event_reducer(first_of, builder, names)
        table[MappingProxyType] = _reduce_mapping
        table[ZoneInfo] = _reduce_zone
        table[LiveView] = _reduce_view
        table[Projection] = _reduce_projection
        self.dispatch_table = table


def _event_reducer(first_of: dict[str, Event], builder: Callable[..., Event],
                   names: tuple[str, ...]) -> Callable[[Event], Any]:
    values = attrgetter(*names)  # every event class has more than one field: a tuple

    def reduce(event: Event) -> Any:
        first = first_of.setdefault(event.id, event)
        if first is not event:
            return _alias, (first,)
        return builder, values(event)

    return reduce


def _reduce_mapping(mapping: Any) -> Any:
    return (_no_extra, ()) if mapping is NO_EXTRA else (_mapping, (dict(mapping),))


def _reduce_zone(zone: ZoneInfo) -> Any:
    # By key, as ZoneInfo pickles itself, without naming builtins.getattr.
    return ZoneInfo, (zone.key,)


def _projection(state: dict[str, Any]) -> Projection:
    """A projection rebuilt from its attributes."""
    projection = Projection.__new__(Projection)
    projection.__dict__.update(state)
    return projection


def _reduce_projection(projection: Projection) -> Any:
    # Its caches (sessions per visitor, request models) are rebuilt on demand: not saved.
    state = dict(vars(projection))
    state["_session_cache"], state["_request_models"] = {}, {}
    return _projection, (state,)


def _reduce_view(view: LiveView) -> Any:
    state = dict(vars(view))
    state["invite_model"] = None
    return _view, (state,)


class _Unpickler(pickle.Unpickler):
    """Only whoson's own names and a few standard and sortedcontainers ones."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = (module == "whoson" or module.startswith("whoson.") or module in _MODULES
                   or (module == "builtins" and name in _BUILTINS))
        if not allowed:
            raise pickle.UnpicklingError(f"a checkpoint may not name {module}.{name}")
        return super().find_class(module, name)


def encode(state: dict[str, Any], *, compress: bool = False) -> bytes:
    """The blob of ``state``: a header, then the pickle (protocol 5), zlib level 1 when ``compress``
    (a quarter of the size, for a third more time to save and a tenth more to restore)."""
    buffer = io.BytesIO()
    _Pickler(buffer).dump(state)
    payload = buffer.getvalue()
    if compress:
        return _MAGIC + bytes([_ZLIB]) + zlib.compress(payload, 1)
    return _MAGIC + bytes([_RAW]) + payload


def decode(blob: bytes) -> dict[str, Any]:
    """The state in a blob written by :func:`encode`; raise ``ValueError`` (or an unpickling error).

    The garbage collector is paused while the objects are built (it would scan them over and over),
    then every object is moved to its permanent generation (:func:`gc.freeze`), as a server does
    after start-up: objects that are not garbage now are never scanned again (plain reference
    counting still frees them).
    """
    if blob[:len(_MAGIC)] != _MAGIC or len(blob) <= len(_MAGIC):
        raise ValueError("not a whoson checkpoint")
    kind = blob[len(_MAGIC)]
    payload = memoryview(blob)[len(_MAGIC) + 1:]
    if kind == _ZLIB:
        payload = memoryview(zlib.decompress(payload))
    elif kind != _RAW:
        raise ValueError(f"unknown checkpoint encoding {kind}")
    enabled = gc.isenabled()
    gc.disable()
    try:
        state = _Unpickler(io.BytesIO(payload)).load()
    finally:
        if enabled:
            # The state lives as long as the tracker: keep the collector from walking it all
            # (a pause of about a second per million events, at some later allocation).
            gc.freeze()
            gc.enable()
    if not isinstance(state, dict):
        raise ValueError("not a whoson checkpoint")
    return state


def _anchors(follower: Follower, position: int) -> tuple[str | None, str | None]:
    """The ids of the store's first event and of the event at ``position``: who the store is."""
    store = follower.store
    first = _first(store.read(limit=1))
    last = _first(store.read(after=position - 1, limit=1)) if position > 0 else None
    return first, last


def _first(items: Iterator[Any]) -> str | None:
    try:
        for item in items:
            return str(item.event.id)
        return None
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def save(follower: Follower, *, compress: bool = False) -> CheckpointInfo:
    """Save ``follower``'s state as the store's checkpoint; raise the store's error if it keeps none.

    The ledger catches up first (what the next report would do), so a tracker restoring the
    checkpoint reads its first report from the slots. Cost: O(state) (pickling, compressing,
    writing the blob).
    """
    reporter = follower.reporter
    reporter.ledger.catch_up()
    position = follower.position
    view = follower.live.view
    state = {
        "format": FORMAT,
        "anchors": _anchors(follower, position),
        "projection": reporter.projection,
        "ledger": reporter.ledger,
        "live": view,
    }
    blob = encode(state, compress=compress)
    follower.store.save_checkpoint(NAME, version_key(follower), position, blob)
    follower.checkpointed, follower.loaded = position, 0
    follower.checkpoint_live = view is not None
    return CheckpointInfo(position, len(blob))


# -- restoring -----------------------------------------------------------------------------------

def restore(follower: Follower) -> bool:
    """Install the store's checkpoint in ``follower`` if it is usable (module doc); else change nothing.

    Returns whether it did; the caller then applies the events after :attr:`Follower.position`.
    Cost: O(state) to unpickle; a check costs one read of the checkpoint and two of one event.
    """
    store = follower.store
    try:
        saved = store.load_checkpoint(NAME)
    except (NotImplementedError, StoreError):
        return False
    if saved is None:
        return False
    version, position, blob = saved
    if version != version_key(follower) or not 0 < position <= store.position:
        return False
    try:
        state = decode(blob)
        projection, ledger, view = state["projection"], state["ledger"], state["live"]
        anchors = state["anchors"]
    except Exception:
        return False
    if (state.get("format") != FORMAT or not isinstance(projection, Projection) or not isinstance(ledger, Ledger)
            or ledger.projection is not projection or anchors != _anchors(follower, position)):
        return False
    reporter = follower.reporter
    reporter.projection, reporter.ledger = projection, ledger
    follower.position = follower.checkpointed = position
    live = follower.live
    if isinstance(view, LiveView) and view.config == live.config:
        view.config = live.config
        live.view = view
    else:  # built on first use from the restored projection, not by reading the store again
        live.source = lambda: _applied_events(follower)
    follower.checkpoint_live = live.view is not None
    return True


def _applied_events(follower: Follower) -> Iterator[Event]:
    """Every applied event a live view takes: each visitor's, in event-time order (the view folds
    each visitor's events in that order whatever order they come in), then the agents' statuses
    that name no visitor (read from the store: the projection keeps only the latest)."""
    for timeline in follower.reporter.projection.timelines.values():
        yield from timeline
    for stored in follower.applied(types=["agent_status"]):
        if stored.event.visitor is None:
            yield stored.event


def attach_rules(follower: Follower) -> None:
    """Give a restored live view its rules engine: the firings found in the applied events.

    O(1) without rules, else O(events) (a look at each, far cheaper than applying it).
    """
    live = follower.live
    if live.view is None or live.engine is not None:
        return
    engine = RuleEngine(live.rule_list, live.view)
    if live.rule_list:  # without rules there is nothing to count
        observe = engine.observe
        for timeline in follower.reporter.projection.timelines.values():
            for event in timeline:
                if isinstance(event, _FIRINGS):
                    observe(event)
    live.engine = engine
