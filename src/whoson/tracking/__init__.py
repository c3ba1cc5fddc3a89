"""The parts a :class:`~whoson.Tracker` is wired from; the tracker itself stays a thin facade.

- :mod:`~whoson.tracking.settings`: checking the configured settings against
  the store's, writing them, and the currency a first order settles;
- :mod:`~whoson.tracking.intake`: validating input events with those settings,
  and merging early rejections with the store's outcomes;
- :mod:`~whoson.tracking.follower`: the in-memory state (report state, live
  view) and the store position it has applied; catching up by position;
- :mod:`~whoson.tracking.checkpoint`: that state saved in the store and
  restored at start-up, so that a tracker need not replay every event;
- :mod:`~whoson.tracking.writing`: appending a batch (currency settling and
  conversion) and recording what the rules fire;
- :mod:`~whoson.tracking.live`: the live view and the rules engine, built on
  first use, and views of past instants;
- :mod:`~whoson.tracking.loading`: a JSON Lines log into the store, in batches;
- :mod:`~whoson.tracking.queries`: the tracker's who's-on methods (``online``,
  ``visitor``, ``waiting``, ``expected_wait``, ``tick``, ``fit_invite_model``).

The report state and the choice of path per report live in
:mod:`whoson.metrics.reporter`; report options in :mod:`whoson.metrics.params`.
"""

__all__: list[str] = []
