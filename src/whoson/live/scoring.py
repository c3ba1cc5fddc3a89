"""``invite_score``: who to invite now, learnt from the store's own history.

A small logistic regression, in pure Python, on features of the live row:

* the signals (``lingering``, ``revisiting``, ``stuck_on_checkout``,
  ``cart_at_risk``, ``waiting``), each 0 or 1;
* ``log(1 + seconds)`` on the page and on the site, ``log(1 + pages viewed)``;
* the page class (``checkout`` by the live config's checkout patterns,
  ``help`` for urls with help/support/contact/faq, ``product``, else other);
* ``log(1 + cart value)`` and whether the cart holds anything;
* returning visitor; device ``mobile`` / ``tablet`` (desktop and unknown
  are the baseline);
* ``invited``: 1 for an invitation (an ``auto`` or ``agent`` request), 0 for
  a ``holdout`` event.

The examples are the invitations and holdouts in the history: the live row
*just before* each (replayed from the events), labelled 1 when the visitor
ordered within ``window`` of it. Examples whose window has not ended by the
newest event are left out (their label is not known yet). A row is scored
with ``invited = 1``: "the chance to order within the window if invited
now". With holdouts in the history the model separates the invitation's
effect from the visitor's own chances.

Fitting is Newton's method with a small ridge penalty: O(iterations x n x
d^2), d = 17 features; about a second for 10,000 examples.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from whoson.live.snapshot import LivePage, VisitorSnapshot
>>> model = InviteModel.constant(0.25)
>>> row = VisitorSnapshot("v1", None, None, "/", None, 3.0, datetime(2026, 3, 2, tzinfo=UTC),
...                       3.0, 1, (), 1, 1, False, None, None, None, Decimal(0), 0,
...                       Decimal(0), "none", None, ())
>>> round(model.score(row), 6)
0.25
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import attrs

from whoson.core.events import Event, HoldoutEvent, OrderEvent, RequestEvent
from whoson.live.config import LiveConfig
from whoson.live.snapshot import LivePage, VisitorSnapshot

__all__ = [
    "FEATURES",
    "DailyRefit",
    "InviteModel",
    "auc",
    "examples_from_events",
    "features",
    "fit_invite_model",
    "fit_on_history",
    "page_class",
    "ranked_by_score",
    "scored",
]

_SIGNALS = ("lingering", "revisiting", "stuck_on_checkout", "cart_at_risk", "waiting")
FEATURES: tuple[str, ...] = (
    *(f"signal_{name}" for name in _SIGNALS),
    "log_on_page", "log_on_site", "log_pages",
    "page_checkout", "page_help", "page_product",
    "log_cart", "has_cart", "returning", "device_mobile", "device_tablet", "invited",
)
_HELP_WORDS = ("help", "support", "contact", "faq")
_DEFAULT_CONFIG = LiveConfig()


def page_class(url: str | None, config: LiveConfig) -> str:
    """``checkout``, ``help``, ``product`` or ``other``.

    >>> config = LiveConfig()
    >>> [page_class(u, config) for u in ("/cart", "/help/returns", "/product/tent", "/", None)]
    ['checkout', 'help', 'product', 'other', 'other']
    """
    if url is None:
        return "other"
    if config.is_checkout(url):
        return "checkout"
    lowered = url.lower()
    if any(word in lowered for word in _HELP_WORDS):
        return "help"
    if "/product" in lowered:
        return "product"
    return "other"


def features(row: VisitorSnapshot, config: LiveConfig, invited: bool = True) -> list[float]:
    """The feature vector of a live row, in :data:`FEATURES` order."""
    names = row.signal_names
    kind = page_class(row.url, config)
    device = (row.device or "").lower()
    cart = float(row.cart_value)
    return [
        *(1.0 if name in names else 0.0 for name in _SIGNALS),
        math.log1p(max(0.0, row.on_page_seconds or 0.0)),
        math.log1p(max(0.0, row.on_site_seconds)),
        math.log1p(row.pages_viewed),
        1.0 if kind == "checkout" else 0.0,
        1.0 if kind == "help" else 0.0,
        1.0 if kind == "product" else 0.0,
        math.log1p(max(0.0, cart)),
        1.0 if cart > 0 else 0.0,
        1.0 if row.returning else 0.0,
        1.0 if device == "mobile" else 0.0,
        1.0 if device == "tablet" else 0.0,
        1.0 if invited else 0.0,
    ]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


@attrs.frozen
class InviteModel:
    """A fitted logistic model: standardised features, weights and intercept.

    ``examples``/``positives`` say what it learnt from; ``fitted_at`` is the
    newest event it saw; ``window`` the conversion window of its labels.
    """

    intercept: float
    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    examples: int
    positives: int
    fitted_at: datetime | None = None
    window: timedelta = timedelta(days=7)
    config: LiveConfig = _DEFAULT_CONFIG

    @classmethod
    def constant(cls, chance: float) -> InviteModel:
        """A model that gives every row the same score (a baseline, and for tests)."""
        zeros = tuple(0.0 for _ in FEATURES)
        return cls(math.log(chance / (1 - chance)), zeros, zeros, tuple(1.0 for _ in FEATURES),
                   0, 0)

    def probability(self, vector: Sequence[float]) -> float:
        """The model's chance for one feature vector."""
        z = self.intercept
        for x, w, m, s in zip(vector, self.weights, self.means, self.scales, strict=True):
            z += w * (x - m) / s
        return _sigmoid(z)

    def score(self, row: VisitorSnapshot) -> float:
        """The chance that this visitor orders within the window if invited now. O(d)."""
        return self.probability(features(row, self.config, invited=True))


def scored(row: VisitorSnapshot, model: InviteModel | None) -> VisitorSnapshot:
    """``row`` with its ``invite_score`` (unchanged without a model). O(d)."""
    if model is None:
        return row
    return attrs.evolve(row, invite_score=model.score(row))


def ranked_by_score(page: LivePage, limit: int, offset: int) -> LivePage:
    """One page of ``page``'s rows ranked by ``invite_score``, highest first.

    Rows without a score come last; ties keep the page's order (newest
    activity first). O(m log m), m = rows.
    """
    order = sorted(
        range(len(page.rows)),
        key=lambda i: (page.rows[i].invite_score is None, -(page.rows[i].invite_score or 0.0), i),
    )
    rows = tuple(page.rows[i] for i in order[offset:offset + limit])
    return LivePage(page.at, rows, page.total)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the matrix is small and positive definite)."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        head = a[col][col]
        for r in range(col + 1, n):
            factor = a[r][col] / head
            if factor:
                row_r, row_c = a[r], a[col]
                for c in range(col, n + 1):
                    row_r[c] -= factor * row_c[c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (a[r][n] - sum(a[r][c] * out[c] for c in range(r + 1, n))) / a[r][r]
    return out


def fit_invite_model(
    vectors: Sequence[Sequence[float]],
    labels: Sequence[bool],
    *,
    ridge: float = 1.0,
    iterations: int = 25,
    fitted_at: datetime | None = None,
    window: timedelta = timedelta(days=7),
    config: LiveConfig = _DEFAULT_CONFIG,
) -> InviteModel | None:
    """Fit the logistic model; ``None`` without at least one example of each label.

    Features are standardised; ``ridge`` penalises the weights (not the
    intercept), which keeps the fit finite when a feature separates the
    labels. Newton steps until they move the weights by less than 1e-8.

    >>> vectors = [[float(i % 2)] + [0.0] * (len(FEATURES) - 1) for i in range(40)]
    >>> labels = [i % 2 == 1 and i % 4 != 1 for i in range(40)]  # odd: half bought
    >>> model = fit_invite_model(vectors, labels)
    >>> round(model.probability(vectors[1]), 2), round(model.probability(vectors[0]), 2)
    (0.46, 0.04)
    """
    n = len(vectors)
    positives = sum(1 for y in labels if y)
    if n != len(labels) or positives in (0, n):
        return None
    d = len(FEATURES)
    means = [sum(v[j] for v in vectors) / n for j in range(d)]
    scales = []
    for j in range(d):
        variance = sum((v[j] - means[j]) ** 2 for v in vectors) / n
        scales.append(math.sqrt(variance) if variance > 1e-12 else 1.0)
    rows = [[1.0, *((v[j] - means[j]) / scales[j] for j in range(d))] for v in vectors]
    ys = [1.0 if y else 0.0 for y in labels]
    beta = [0.0] * (d + 1)
    base = positives / n
    beta[0] = math.log(base / (1 - base))
    for _ in range(iterations):
        gradient = [0.0] * (d + 1)
        hessian = [[0.0] * (d + 1) for _ in range(d + 1)]
        for x, y in zip(rows, ys, strict=True):
            p = _sigmoid(sum(b * xi for b, xi in zip(beta, x, strict=True)))
            weight = max(p * (1 - p), 1e-10)
            residual = y - p
            for i, xi in enumerate(x):
                if xi == 0.0:
                    continue
                gradient[i] += residual * xi
                row_h = hessian[i]
                wx = weight * xi
                for j in range(i, d + 1):
                    row_h[j] += wx * x[j]
        for i in range(1, d + 1):
            gradient[i] -= ridge * beta[i]
            hessian[i][i] += ridge + 1e-9  # a constant feature must not make it singular
        for i in range(d + 1):
            for j in range(i):
                hessian[i][j] = hessian[j][i]
        step = _solve(hessian, gradient)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return InviteModel(
        intercept=beta[0], weights=tuple(beta[1:]), means=tuple(means), scales=tuple(scales),
        examples=n, positives=positives, fitted_at=fitted_at, window=window, config=config,
    )


def examples_from_events(
    events: Iterable[Event],
    *,
    window: timedelta = timedelta(days=7),
    config: LiveConfig = _DEFAULT_CONFIG,
    until: datetime | None = None,
) -> list[tuple[datetime, list[float], bool]]:
    """``(ts, features, ordered within window)`` of every invitation and holdout.

    Replays a :class:`~whoson.live.LiveView` over the events in (ts, id)
    order and takes the row just before each exposure: an ``auto`` or
    ``agent`` request (its first creation event) or a ``holdout``. Exposures
    whose window ends after ``until`` (default: the newest event) are left
    out. O(n log n) plus one row build per exposure.
    """
    from whoson.live.view import LiveView

    ordered = sorted(events, key=lambda e: e.sort_key)
    if not ordered:
        return []
    horizon = until if until is not None else ordered[-1].ts
    orders: dict[str, list[datetime]] = {}
    seen_orders: set[str] = set()
    for event in ordered:
        if (isinstance(event, OrderEvent) and event.visitor is not None
                and event.order not in seen_orders):
            seen_orders.add(event.order)
            orders.setdefault(event.visitor, []).append(event.ts)
    live = LiveView(config)
    created: set[str] = set()
    out: list[tuple[datetime, list[float], bool]] = []
    for event in ordered:
        invited: bool | None = None
        if isinstance(event, RequestEvent) and event.request not in created:
            created.add(event.request)
            if event.initiator in ("auto", "agent"):
                invited = True
        elif isinstance(event, HoldoutEvent):
            invited = False
        if invited is not None and event.visitor is not None and event.ts + window <= horizon:
            facts = live.facts(event.visitor, event.ts)
            if facts is not None:
                times = orders.get(event.visitor, [])
                index = bisect.bisect_left(times, event.ts)
                label = index < len(times) and times[index] <= event.ts + window
                out.append((event.ts, features(facts.snapshot, config, invited), label))
        live.apply(event)
    return out


def fit_on_history(
    events: Iterable[Event],
    *,
    window: timedelta = timedelta(days=7),
    config: LiveConfig = _DEFAULT_CONFIG,
    until: datetime | None = None,
) -> InviteModel | None:
    """Fit the model on a history (:func:`examples_from_events`, then :func:`fit_invite_model`).

    ``None`` when the history has no invitation or holdout with a known
    outcome of each kind (nobody bought, or everybody did).
    """
    examples = examples_from_events(events, window=window, config=config, until=until)
    return fit_invite_model(
        [vector for _, vector, _ in examples], [label for _, _, label in examples],
        fitted_at=until if until is not None else (examples[-1][0] if examples else None),
        window=window, config=config,
    )


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count one half); ``None`` without both labels.

    >>> auc([0.9, 0.8, 0.3, 0.1], [True, False, True, False])
    0.75
    """
    pairs = sorted(zip(scores, labels, strict=True))
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    rank_sum = 0.0
    index = 0
    while index < len(pairs):
        end = index
        while end < len(pairs) and pairs[end][0] == pairs[index][0]:
            end += 1
        mean_rank = (index + 1 + end) / 2
        rank_sum += mean_rank * sum(1 for _, y in pairs[index:end] if y)
        index = end
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


class _Refits(Protocol):
    def fit_invite_model(self) -> InviteModel | None: ...


class DailyRefit:
    """Refits a tracker's invite model when a day has passed since the last fit.

    A server calls :meth:`tick` from its periodic task (every minute is
    plenty); the first call fits at once. ``every`` changes the period.

    >>> from whoson import FixedClock, Tracker
    >>> from datetime import UTC
    >>> refit = DailyRefit(Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC))))
    >>> refit.tick(datetime(2026, 3, 2, tzinfo=UTC)), refit.tick(datetime(2026, 3, 2, 12, tzinfo=UTC))
    (True, False)
    """

    def __init__(self, tracker: _Refits, every: timedelta = timedelta(days=1)) -> None:
        self.tracker = tracker
        self.every = every
        self.last: datetime | None = None

    def tick(self, now: datetime) -> bool:
        """Refit if due at ``now``; True when a refit was attempted."""
        if self.last is not None and now - self.last < self.every:
            return False
        self.last = now
        self.tracker.fit_invite_model()
        return True

