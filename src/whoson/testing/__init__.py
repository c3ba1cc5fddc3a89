"""Tools for testing code built on whoson, and for checking a new store backend.

:func:`make_event` builds a valid event of any type from just the fields a
test cares about; :func:`sample_events` gives one of each type, with extras
and exact decimals. :class:`StoreContract` is the behaviour every
:class:`~whoson.stores.base.Store` must have, as a test class to subclass::

    from whoson.testing import StoreContract

    class TestMyStore(StoreContract):
        def create_store(self):
            return MyStore(...)

        def reopen_store(self, store):   # durable backends only
            store.close()
            return MyStore(...)

        def store_opener(self, store):   # stores shared by processes
            return functools.partial(MyStore, ...)

pytest then runs every ``test_*`` method against your store (the contract
itself is not collected), including the checkpoint checks of
:mod:`whoson.testing.checkpoints` (skipped for a store that keeps none) and the hostile-value checks of
:mod:`whoson.testing.hostile`: values at every bound of the event contract
must come back exactly, values past them must be rejected alone. The checks are plain ``assert`` statements that
name what was expected and what came back, so the contract needs pytest only
to run, not to import.

>>> e = make_event("heartbeat", id="h1", url="/")
>>> (e.type, e.visitor, e.ts.isoformat())
('heartbeat', 'v1', '2026-03-01T12:00:00+00:00')
"""

from __future__ import annotations

from whoson.testing.checkpoints import CheckpointContract
from whoson.testing.events import BASE_TS, make_event, sample_events
from whoson.testing.hostile import HostileContract
from whoson.testing.reading import ReadContract
from whoson.testing.sharing import SharingContract
from whoson.testing.writing import WriteContract

__all__ = ["BASE_TS", "StoreContract", "make_event", "sample_events"]


class StoreContract(WriteContract, ReadContract, SharingContract, CheckpointContract,
                    HostileContract):
    """What every store must do, as ``test_*`` methods; subclass and define ``create_store``.

    Durable backends also define ``reopen_store``; the tests that need it are
    skipped otherwise. Stores several processes share define
    ``store_opener(store)`` (a picklable callable opening the same data, for
    the two-writer-processes checks), and networked ones
    ``break_connections(store)`` (for the reconnect check). Stores created through ``new_store`` are closed after
    each test. The contract itself is not collected by pytest
    (``__test__ = False``); its subclasses are.

    >>> StoreContract.__test__
    False
    >>> class TestMine(StoreContract):
    ...     pass
    >>> TestMine.__test__
    True
    """

    __test__ = False
