"""invite_score: features, the logistic fit, training examples, live rows and ranking."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.live.helpers import T0, Feed, at
from whoson import FixedClock, Tracker
from whoson.live import LiveConfig
from whoson.live.scoring import (
    FEATURES,
    DailyRefit,
    InviteModel,
    auc,
    examples_from_events,
    features,
    fit_invite_model,
)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


class TestFeatures:
    """A row's feature vector, read off by hand."""

    def test_checkout_visitor(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/product/tent", device="Mobile")
        feed("cart_update", 10, value="49.00")
        feed("page_view", 20, url="/checkout")
        row = feed.view.online(at(140)).rows[0]
        vector = dict(zip(FEATURES, features(row, LiveConfig()), strict=True))
        # 120 s on /checkout: lingering (>= 120 s) and stuck on checkout (>= 90 s).
        expected = {
            "signal_lingering": 1.0, "signal_revisiting": 0.0, "signal_stuck_on_checkout": 1.0,
            "signal_cart_at_risk": 0.0, "signal_waiting": 0.0,
            "log_on_page": math.log(121), "log_on_site": math.log(141), "log_pages": math.log(3),
            "page_checkout": 1.0, "page_help": 0.0, "page_product": 0.0,
            "log_cart": math.log(50), "has_cart": 1.0, "returning": 0.0,
            "device_mobile": 1.0, "device_tablet": 0.0, "invited": 1.0,
        }
        assert expected == pytest.approx(vector)


class TestFit:
    """The pure-Python logistic regression recovers a known model."""

    def test_recovers_true_probabilities(self) -> None:
        rng = random.Random(5)
        true = {"has_cart": 1.5, "returning": 0.8, "device_mobile": -0.7}
        vectors, labels, chances = [], [], []
        for _ in range(4000):
            x = dict.fromkeys(FEATURES, 0.0)
            for name in true:
                x[name] = float(rng.random() < 0.4)
            z = -1.5 + sum(weight * x[name] for name, weight in true.items())
            p = 1 / (1 + math.exp(-z))
            vectors.append([x[name] for name in FEATURES])
            labels.append(rng.random() < p)
            chances.append(p)
        model = fit_invite_model(vectors, labels)
        assert model is not None
        worst = max(abs(model.probability(v) - p) for v, p in zip(vectors, chances, strict=True))
        assert worst < 0.04

    def test_needs_both_labels(self) -> None:
        vectors = [[0.0] * len(FEATURES)] * 5
        assert fit_invite_model(vectors, [False] * 5) is None
        assert fit_invite_model(vectors, [True] * 5) is None

    def test_constant_model(self) -> None:
        assert 0.3 == pytest.approx(InviteModel.constant(0.3).probability([0.0] * len(FEATURES)))


class TestAuc:
    """AUC is the share of (positive, negative) pairs ranked right, ties half."""

    def test_by_hand(self) -> None:
        # Pairs: (0.8,0.2) right, (0.8,0.5) right, (0.5,0.2) right, (0.5,0.5) tie: 3.5 / 4.
        assert 0.875 == auc([0.8, 0.5, 0.5, 0.2], [True, True, False, False])

    def test_one_class_is_none(self) -> None:
        assert auc([0.1, 0.2], [True, True]) is None


class TestExamples:
    """Examples are the rows just before invitations and holdouts, labelled by later orders."""

    def test_rows_labels_and_unfinished_windows(self) -> None:
        feed = Feed()
        feed("page_view", 0, "v1", url="/cart")
        feed("request", 60, "v1", request="r1", channel="text", initiator="auto", trigger="t")
        feed("order", 600, "v1", order="o1", subtotal="10")
        feed("page_view", 0, "v2", url="/help")
        feed("holdout", 30, "v2", trigger="t")
        feed("page_view", 0, "v3", url="/")
        feed("request", 100, "v3", request="r3", channel="text", initiator="agent", agent="a")
        feed("page_view", 7200, "v4", url="/")  # the newest event, at T0 + 2 h
        feed("holdout", 7100, "v4", trigger="t")  # its one-hour window has not ended
        examples = examples_from_events(feed.events, window=timedelta(hours=1))
        named = [(ts, dict(zip(FEATURES, vector, strict=True)), label)
                 for ts, vector, label in examples]
        expected = [(at(30), 0.0, 1.0, False), (at(60), 1.0, 1.0, True),
                    (at(100), 1.0, 0.0, False)]
        assert expected == [(ts, v["invited"], v["page_checkout"] + v["page_help"], label)
                            for ts, v, label in named]
        # The row is the one before the invitation: 60 s on the page, no chat yet.
        assert math.log(61) == pytest.approx(named[1][1]["log_on_page"])


def shop_log() -> list[dict[str, object]]:
    """Ten days: every day, cart visitors invited at checkout buy, browsers do not."""
    events: list[dict[str, object]] = []
    for day in range(10):
        for n in range(6):
            visitor, t = f"v{day}-{n}", T0 + timedelta(days=day, minutes=10 * n)
            cart = n % 2 == 0
            events.append({"type": "page_view", "ts": t, "visitor": visitor,
                           "url": "/checkout" if cart else "/blog"})
            if cart:
                events.append({"type": "cart_update", "ts": t + timedelta(seconds=5),
                               "visitor": visitor, "value": "80"})
            events.append({"type": "request", "ts": t + timedelta(seconds=30), "visitor": visitor,
                           "request": f"r-{visitor}", "channel": "text", "initiator": "auto",
                           "trigger": "t"})
            if cart and n != 4:
                events.append({"type": "order", "ts": t + timedelta(minutes=5),
                               "visitor": visitor, "order": f"o-{visitor}", "subtotal": "80"})
    return [{"id": f"e{i}", **e, "ts": e["ts"].isoformat()}  # type: ignore[union-attr]
            for i, e in enumerate(events)]


class TestTracker:
    """Scores appear on live rows once fitted, and rank the online list."""

    def test_scores_and_ranking(self) -> None:
        now = T0 + timedelta(days=10, seconds=40)
        tracker = Tracker(clock=FixedClock(now))
        tracker.record_many(shop_log())
        tracker.record_many([
            {"id": "x1", "type": "page_view", "ts": (now - timedelta(seconds=30)).isoformat(),
             "visitor": "late-browser", "url": "/blog"},
            {"id": "x2", "type": "page_view", "ts": (now - timedelta(seconds=20)).isoformat(),
             "visitor": "late-buyer", "url": "/checkout"},
            {"id": "x3", "type": "cart_update", "ts": (now - timedelta(seconds=10)).isoformat(),
             "visitor": "late-buyer", "value": "80"},
        ])
        assert [None, None] == [r.invite_score for r in tracker.online().rows]
        model = tracker.fit_invite_model(window="1h")
        assert model is not None
        assert (60, 20) == (model.examples, model.positives)
        by_activity = tracker.online().rows
        assert ["late-buyer", "late-browser"] == [r.visitor for r in by_activity]
        ranked = tracker.online(sort="invite_score").rows
        assert ["late-buyer", "late-browser"] == [r.visitor for r in ranked]
        scores = [r.invite_score for r in ranked]
        assert all(s is not None and 0 <= s <= 1 for s in scores)
        assert scores[0] > 0.5 > scores[1]  # type: ignore[operator]
        detail = tracker.visitor("late-buyer")
        assert detail is not None
        assert scores[0] == detail.snapshot.invite_score
        assert scores[0] == tracker.online().to_dict()["online"][0]["invite_score"]

    def test_ranking_puts_the_higher_score_first(self) -> None:
        now = T0 + timedelta(days=10, seconds=40)
        tracker = Tracker(clock=FixedClock(now))
        tracker.record_many(shop_log())
        tracker.record_many([
            {"id": "y1", "type": "page_view", "ts": (now - timedelta(seconds=20)).isoformat(),
             "visitor": "buyer", "url": "/checkout"},
            {"id": "y2", "type": "cart_update", "ts": (now - timedelta(seconds=15)).isoformat(),
             "visitor": "buyer", "value": "80"},
            {"id": "y3", "type": "page_view", "ts": (now - timedelta(seconds=5)).isoformat(),
             "visitor": "browser", "url": "/blog"},
        ])
        tracker.fit_invite_model(window="1h")
        assert ["browser", "buyer"] == [r.visitor for r in tracker.online().rows]
        assert ["buyer", "browser"] == [
            r.visitor for r in tracker.online(sort="invite_score").rows]
        assert ["browser"] == [
            r.visitor for r in tracker.online(sort="invite_score", offset=1).rows]

    def test_bad_sort(self) -> None:
        with pytest.raises(ValueError, match="sort must be 'activity' or 'invite_score'"):
            Tracker(clock=FixedClock(T0)).online(sort="score")

    def test_no_history_keeps_no_model(self) -> None:
        tracker = Tracker(clock=FixedClock(T0))
        assert tracker.fit_invite_model() is None
        assert tracker.live.invite_model is None


class TestDailyRefit:
    """The server hook refits once a day."""

    def test_refits_daily(self) -> None:
        calls: list[int] = []

        class Stub:
            def fit_invite_model(self) -> InviteModel | None:
                calls.append(1)
                return None

        refit = DailyRefit(Stub())
        start = datetime(2026, 3, 2, tzinfo=UTC)
        moments = [start, start + timedelta(hours=23), start + timedelta(days=1),
                   start + timedelta(days=1, hours=1)]
        assert [True, False, True, False] == [refit.tick(m) for m in moments]
        assert 2 == len(calls)


def test_features_cover_every_name() -> None:
    """Every feature has a name (the model's weights line up with FEATURES)."""
    feed = Feed()
    feed("page_view", 0, url="/")
    row = feed.view.online(at(1)).rows[0]
    assert len(FEATURES) == len(features(row, LiveConfig()))
    assert Decimal(0) == row.cart_value
