"""The whole report in plain Python: tests/reference.py, with indexes instead of scans.

``tests/reference.py`` is the project's independent batch implementation of
the report, written from the metrics contract (metrics.md) without looking
at the library: one small function per definition, each a plain loop over
the event list. It computes every section of the report (visitors, requests
and top urls, acceptance, conversations, sales, ratings and feedback,
support and waiting, auto messages, daily and hourly trends, agents with
their daily rows, experiments, pages), but many of its functions scan every
event for each request, visitor, day or agent, so it is quadratic: fine for
tests, hours at 1M events.

This peer keeps every definition of the reference and changes only how the
events are found. It installs, on the reference module, versions of its
lookups that read indexes built once per report instead of scanning:

- ``responses_of``, ``ends_of``, ``transfers_of``: events grouped by request;
- ``sessionise``, ``request_url``: events (page views) grouped by visitor;
- ``attributing_conversation``, ``first_contact_resolved``: requests grouped
  by visitor;
- ``daily_row``: events grouped by local date;
- ``wait_outcomes``: each visitor's newest event; ``aalen_johansen``: the
  estimator's running sums computed in one pass over the sorted times (the
  same floating-point operations in the same order as the reference's
  repeated sums, so the same results);
- ``pages_section``: page views and requests grouped by url;
- selections the reference recomputes many times (``events_in_range``,
  ``requests_in_range``, ``attributed_orders``, ``agent_*``...) are
  computed once per report.

Each replacement calls the reference's own function on the narrowed events
where it can (a :class:`_Narrow` world), so the definitions stay the
reference's. The result is the report as a plain dict with the JSON key
tree; bench/figures.py flattens it and compares it with whoson's.
"""

from __future__ import annotations

import sys
import time
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import reference as ref  # noqa: E402

__all__ = ["install", "load", "report", "run", "uninstall"]

_ORIGINAL: dict[str, Callable[..., Any]] = {}


class _Narrow:
    """A view of a reference ``World`` with some attributes (``events``, ``requests``) replaced."""

    def __init__(self, world: Any, **overrides: Any) -> None:
        self.__dict__.update(overrides)
        self._root = _root(world)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._root, name)


def _root(world: Any) -> Any:
    return world._root if isinstance(world, _Narrow) else world


def _cache(world: Any) -> dict[Any, Any]:
    cache: dict[Any, Any] = world.__dict__.setdefault("_peer_cache", {})
    return cache


def _memo(world: Any, key: Any, compute: Callable[[], Any]) -> Any:
    cache = _cache(world)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


# -- indexes (built once per report, on the real world) ------------------------------


def _by(world: Any, name: str, group: Callable[[Any], Any], over: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    def build() -> dict[Any, list[Any]]:
        index: dict[Any, list[Any]] = defaultdict(list)
        for item in over(world):
            key = group(item)
            if key is not None:
                index[key].append(item)
        return index

    found: dict[Any, list[Any]] = _memo(_root(world), ("index", name), build)
    return found


def _events_by_request(world: Any) -> dict[Any, list[Any]]:
    return _by(_root(world), "request", lambda e: getattr(e, "request", None), lambda w: w.events)


def _events_by_visitor(world: Any) -> dict[Any, list[Any]]:
    return _by(_root(world), "visitor", lambda e: e.visitor, lambda w: w.events)


def _requests_by_visitor(world: Any) -> dict[Any, list[Any]]:
    return _by(_root(world), "requests", lambda r: r.visitor, lambda w: list(w.requests.values()))


def _events_by_day(world: Any) -> dict[Any, list[Any]]:
    return _by(_root(world), "day", lambda e: world.local_date(e.ts), lambda w: w.events)


# -- the replacements ----------------------------------------------------------------


def _request_events(name: str) -> Callable[..., Any]:
    def lookup(world: Any, request_id: str) -> Any:
        events = _events_by_request(world).get(request_id, [])
        return _ORIGINAL[name](_Narrow(world, events=events), request_id)

    return lookup


def sessionise(world: Any, visitor: str) -> Any:
    return _ORIGINAL["sessionise"](_Narrow(world, events=_events_by_visitor(world).get(visitor, [])), visitor)


def request_url(world: Any, req: Any) -> Any:
    def compute() -> Any:
        events = _events_by_visitor(world).get(req.visitor, [])
        return _ORIGINAL["request_url"](_Narrow(world, events=events), req)

    return _memo(_root(world), ("request_url", req.id), compute)


def attributing_conversation(world: Any, order: Any) -> Any:
    mine = _requests_by_visitor(world).get(order.visitor, [])
    return _ORIGINAL["attributing_conversation"](_Narrow(world, requests={r.id: r for r in mine}), order)


def first_contact_resolved(world: Any, conv: Any) -> Any:
    mine = _requests_by_visitor(world).get(conv.visitor, [])
    return _ORIGINAL["first_contact_resolved"](_Narrow(world, requests={r.id: r for r in mine}), conv)


def daily_row(world: Any, day: Any) -> Any:
    # Every selection of a daily row is filtered by local date, so the events of
    # other days cannot change it.
    return _ORIGINAL["daily_row"](_Narrow(world, events=_events_by_day(world).get(day, [])), day)


def wait_outcomes(world: Any) -> list[tuple[str, float]]:
    """The reference's wait_outcomes, with each visitor's newest event looked up."""
    newest = {visitor: events[-1].ts for visitor, events in _events_by_visitor(world).items()}
    out: list[tuple[str, float]] = []
    for req in ref.requests_in_range(world):
        if req.initiator != "visitor":
            continue
        answer = req.first_agent_response.ts if req.first_agent_response is not None else None
        ends = [e.ts for e in ref.ends_of(world, req.id)]
        end = min(ends) if ends else None
        last = newest[req.visitor]
        if answer is not None and (end is None or answer <= end):
            out.append(("answered", ref.seconds(answer - req.created)))
        elif end is not None:
            out.append(("abandoned", ref.seconds(end - req.created)))
        elif last + timedelta(seconds=120) <= world.as_of:
            out.append(("abandoned", ref.seconds(last + timedelta(seconds=120) - req.created)))
        else:
            out.append(("waiting", ref.seconds(world.as_of - req.created)))
    return out


_CURVES: dict[int, tuple[Any, list[float], dict[str, list[float]]]] = {}


def aalen_johansen(outcomes: list[tuple[str, float]], kind: str, t: float) -> float:
    """The reference's estimator, its sums kept as running totals over the sorted times."""
    known = _CURVES.get(id(outcomes))
    if known is None or known[0] is not outcomes:
        times = sorted({x for k, x in outcomes if k != "waiting"})
        xs = sorted(x for _, x in outcomes)
        done = Counter(x for k, x in outcomes if k != "waiting")
        by_kind = {name: Counter(x for k, x in outcomes if k == name) for name in ("answered", "abandoned")}
        totals: dict[str, list[float]] = {name: [] for name in by_kind}
        running = dict.fromkeys(by_kind, 0.0)
        survival = 1.0
        for u in times:
            n_u = len(xs) - bisect_left(xs, u)  # outcomes with a time >= u
            for name, counts in by_kind.items():
                running[name] += survival * counts[u] / n_u
                totals[name].append(running[name])
            survival *= 1 - done[u] / n_u
        known = (outcomes, times, totals)
        _CURVES.clear()
        _CURVES[id(outcomes)] = known
    _, times, totals = known
    upto = bisect_right(times, t)
    return totals[kind][upto - 1] if upto else 0.0


def pages_section(world: Any) -> list[dict[str, Any]]:
    """The reference's pages_section, with views and requests grouped by url first."""
    views = ref.events_in_range(world, ref.PageViewEvent)
    reqs = ref.requests_in_range(world)
    views_by_url: dict[str, list[Any]] = defaultdict(list)
    for view in views:
        views_by_url[view.url].append(view)
    reqs_by_url: dict[Any, list[Any]] = defaultdict(list)
    for req in reqs:
        reqs_by_url[ref.request_url(world, req)].append(req)
    rows = []
    for url, mine in views_by_url.items():
        viewers = {v.visitor for v in mine}
        on_url = reqs_by_url.get(url, [])
        requesters = {r.visitor for r in on_url}
        rows.append({
            "url": url,
            "page_views": len(mine),
            "visitors": len(viewers),
            "requests": len(on_url),
            "conversations": sum(1 for r in on_url if r.conversation),
            "chat_rate": ref.rate(len(viewers & requesters), len(viewers)),
        })
    return sorted(rows, key=lambda row: (-row["page_views"], row["url"]))


def _memoised(name: str, *, on_root: bool) -> Callable[..., Any]:
    def wrapper(world: Any, *args: Any) -> Any:
        owner = _root(world) if on_root else world
        return _memo(owner, (name, *args), lambda: _ORIGINAL[name](world, *args))

    return wrapper


# Selections that read only requests, orders and sessions (not world.events) are
# shared by every narrowed view; the others are kept per view.
_ON_ROOT = ("requests_in_range", "conversations_in_range", "orders_in_range", "attributed_orders",
            "sessions_in_range", "agent_initiated", "agent_conversations", "agent_attributed",
            "agent_first_responses", "last_responding_agent")
_PER_VIEW = ("events_in_range", "rated_surveys", "agent_ratings")


def install() -> None:
    """Replace the reference's scans with the indexed lookups above (idempotent)."""
    if _ORIGINAL:
        return
    replacements: dict[str, Callable[..., Any]] = {
        "responses_of": _request_events("responses_of"),
        "ends_of": _request_events("ends_of"),
        "transfers_of": _request_events("transfers_of"),
        "sessionise": sessionise,
        "request_url": request_url,
        "attributing_conversation": attributing_conversation,
        "first_contact_resolved": first_contact_resolved,
        "daily_row": daily_row,
        "wait_outcomes": wait_outcomes,
        "aalen_johansen": aalen_johansen,
        "pages_section": pages_section,
    }
    for name in _ON_ROOT:
        replacements[name] = _memoised(name, on_root=True)
    for name in _PER_VIEW:
        replacements[name] = _memoised(name, on_root=False)
    for name, function in replacements.items():
        _ORIGINAL[name] = getattr(ref, name)
        setattr(ref, name, function)


def uninstall() -> None:
    """Put the reference's own functions back (the tests compare both)."""
    for name, function in _ORIGINAL.items():
        setattr(ref, name, function)
    _ORIGINAL.clear()
    _CURVES.clear()


def load(path: str) -> list[Any]:
    """The log's events, parsed by whoson's event parser (the reference works on typed events)."""
    from whoson.logfile import iter_log

    return [item.event for item in iter_log(path) if item.event is not None]


def report(events: list[Any], as_of: datetime, **params: Any) -> dict[str, Any]:
    """The reference report of ``events`` (indexed), as a plain dict."""
    install()
    result: dict[str, Any] = ref.reference_report(events, as_of=as_of, **params)
    return result


def run(path: str, as_of: datetime, *, warm_budget: float = 10.0, **params: Any) -> dict[str, Any]:
    """Read the log, compute the report (cold), compute it again on the parsed events (warm)."""
    from bench.measure import repeat

    started = time.perf_counter()
    events = load(path)
    loaded = time.perf_counter() - started
    tree = report(events, as_of, **params)
    cold = time.perf_counter() - started
    warm = repeat(lambda: report(events, as_of, **params), times=3, budget=warm_budget)
    return {"rows": len(events), "load_s": loaded, "cold_s": cold, "warm": warm, "report": tree}
