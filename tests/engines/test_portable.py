"""The report definition keeps to the portable Ibis subset (a lint over the expression trees)."""

from __future__ import annotations

import pytest

ibis = pytest.importorskip("ibis")

from whoson.engines.portable import definition_queries, violations  # noqa: E402

QUERIES = definition_queries()


class TestPortableSubset:
    """Every query of the definition uses only allowed operations; the lint does catch others."""

    @pytest.mark.parametrize("name", sorted(QUERIES))
    def test_query_is_portable(self, name: str) -> None:
        """No operation outside the allowlist in this query."""
        assert [] == violations(QUERIES[name])

    def test_asof_join_refused(self) -> None:
        """An ASOF join is named as a violation."""
        left = ibis.table({"k": "string", "t": "int64"}, name="l")
        right = ibis.table({"k": "string", "t": "int64", "x": "int64"}, name="r")
        joined = left.asof_join(right, on=left.t >= right.t, predicates=[left.k == right.k])
        assert any(v.startswith("JoinLink(asof)") for v in violations(joined))

    def test_engine_time_zone_refused(self) -> None:
        """Local dates from the engine's own time zone functions are refused."""
        t = ibis.table({"ts": "timestamp('UTC')"}, name="t")
        assert ["Date"] == violations(t.select(day=t.ts.date()))

    def test_approximate_quantile_refused(self) -> None:
        """Percentiles come from ranks, not from an engine's quantile function."""
        t = ibis.table({"n": "int64"}, name="t")
        assert ["ApproxMedian"] == violations(t.aggregate(m=t.n.approx_median()))
