"""The report's heavy aggregation, written once in Ibis, in a portable subset.

Every engine (DuckDB, Spark) compiles the same expressions. The subset:
exact distinct counts, row numbers over windows (first/last by ``(ts, id)``,
percentile ranks), cumulative sums, equality and range joins, plain
aggregates. No ASOF joins, no QUALIFY, no engine time zone conversion: time
is integer microseconds since the epoch (``us``), and local dates and hours
come from a 15-minute slot table built in Python with zoneinfo (every real
zone's offsets are multiples of 15 minutes), joined by slot number. Money is
summed in the engine (exact decimals) and divided in Python.

The expressions mirror :mod:`whoson.core.projection` (request state, sessions,
orders, surveys) and :mod:`whoson.metrics.contributions` (what each entity
adds to the report); the results are small tables that
:mod:`whoson.engines.run` turns into the tallies the shared assembly reads.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from whoson.engines.shape import EPOCH, SLOT_US, Bounds

__all__ = ["EPOCH", "SLOT_US", "Bounds", "Definition"]

FEEDBACK_COLUMNS = ("us", "id", "visitor", "agent", "rating", "feedback")


def epoch_micros(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Microseconds since the epoch, portably (an engine may supply a faster equivalent)."""
    return ts.delta(ibis.literal(EPOCH), unit="microsecond")


def _left(left: ir.Table, right: ir.Table, key: str) -> ir.Table:
    """Left join on one shared key column, keeping the left copy of the key."""
    return left.left_join(right, key).drop(f"{key}_right")


def _first(table: ir.Table, by: str, *, last: bool = False) -> ir.Table:
    """Per ``by``, the row first (or last) by ``(us, id)``: the contract's tie rule."""
    order = [ibis.desc("us"), ibis.desc("id")] if last else [ibis.asc("us"), ibis.asc("id")]
    ranked = table.mutate(_rank=ibis.row_number().over(group_by=by, order_by=order))
    return ranked.filter(ranked._rank == 0).drop("_rank")


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(condition.fill_null(False), 1, 0)


class Definition:
    """The report's aggregations over ``events`` (the exported columns) for ``bounds``.

    ``events`` may carry ``us`` (microseconds since the epoch of ``ts``)
    already, computed by an engine's own function; else it is derived here.

    ``slots`` maps each 15-minute UTC slot holding an event of the range (``slot``) to its
    local date (``day``, a proleptic ordinal) and hour (``hour``). Each
    public method returns one Ibis table expression; nothing runs until an
    engine executes it.
    """

    def __init__(self, events: ir.Table, bounds: Bounds, slots: ir.Table) -> None:
        self.bounds = bounds
        self.slots = slots
        with_us = events if "us" in events.columns else events.mutate(us=epoch_micros(events.ts))
        self.events = with_us.filter(with_us.us <= bounds.as_of)

    # -- helpers ---------------------------------------------------------------

    def in_range(self, us: ir.IntegerValue) -> ir.BooleanValue:
        """Whether an anchor instant lies in ``[start, end)``."""
        condition = us == us
        if self.bounds.start is not None:
            condition = condition & (us >= self.bounds.start)
        if self.bounds.end is not None:
            condition = condition & (us < self.bounds.end)
        return condition

    def localised(self, table: ir.Table, anchor: str) -> ir.Table:
        """``table`` rows anchored in range, with the local ``day`` and ``hour`` of ``anchor``."""
        inside = table.filter(self.in_range(table[anchor]))
        inside = inside.mutate(_slot=inside[anchor] // SLOT_US)
        return inside.join(self.slots, inside._slot == self.slots.slot).drop("_slot", "slot")

    def extent(self) -> ir.Table:
        """Earliest and newest event instant (at or before as_of), and the event count."""
        return self.events.aggregate(lo=_.us.min(), hi=_.us.max(), n=_.count())

    def event_slots(self) -> ir.Table:
        """The 15-minute UTC slots holding an event in range: every anchor of
        :meth:`localised` is an event's instant, so these are the slots it joins."""
        ev = self.events.filter(self.in_range(self.events.us))
        return ev.group_by(slot=ev.us // SLOT_US).aggregate(n=_.count())

    # -- requests ----------------------------------------------------------------

    def creations(self) -> ir.Table:
        """Each request id's winning creation (earliest ``(ts, id)``)."""
        requests = self.events.filter(self.events.type == "request")
        first = _first(requests, "request")
        return first.select(
            "request", "visitor", "channel", "initiator", "department", creator=first.agent, url=first.url,
            offline=first.offline.fill_null(False), created=first.us, cid=first.id,
        )

    def responses(self) -> ir.Table:
        """Messages and call joins with the side that responded."""
        ev = self.events
        responses = ev.filter(ev.type.isin(["message", "call_joined"]))
        return responses.mutate(side=responses.sender.coalesce(responses.participant))

    def last_agents(self) -> ir.Table:
        """Per request id, the latest agent-side response (us, id, agent)."""
        agents = self.responses()
        agents = agents.filter(agents.side == "agent")
        last = _first(agents, "request", last=True)
        return last.select("request", la=last.us, la_id=last.id, la_agent=last.agent)

    @staticmethod
    def last_responding_agent(table: ir.Table) -> ir.StringValue:
        """The agent of the latest agent-side response; creating an agent request counts."""
        creator_later = table.la.isnull() | (table.created > table.la) | (
            (table.created == table.la) & (table.cid > table.la_id)
        )
        use_creator = (table.initiator == "agent") & table.creator.notnull() & creator_later
        return ibis.ifelse(use_creator.fill_null(False), table.creator, table.la_agent)

    def requests(self) -> ir.Table:
        """One row per created request: responses, outcome at as_of, conversation times."""
        b = self.bounds
        responses = self.responses()
        visitor_side = responses.filter(responses.side == "visitor").group_by("request").aggregate(
            fv_resp=_.us.min()
        )
        agent_side = responses.filter(responses.side == "agent")
        first_agent = _first(agent_side, "request")
        first_agent = first_agent.select("request", fa_resp=first_agent.us, fa_agent=first_agent.agent)
        activity = responses.group_by("request").aggregate(act_first=_.us.min(), act_last=_.us.max())
        ends = self.events.filter(self.events.type == "request_end")
        last_end = _first(ends, "request", last=True)
        last_end = last_end.select("request", ended=last_end.us, resolved=last_end.resolved)
        transfers = self.events.filter(self.events.type == "transfer").group_by("request").aggregate(
            transfers=_.count(), escalations=_flag(_.escalation).sum()
        )
        r = self.creations()
        for part in (visitor_side, first_agent, self.last_agents(), activity, last_end, transfers):
            r = _left(r, part, "request")
        fv = ibis.ifelse(r.initiator == "visitor", r.created, r.fv_resp)
        fa = ibis.ifelse(r.initiator == "agent", r.created, r.fa_resp)
        r = r.mutate(
            fv=fv,
            fa=fa,
            first_agent=ibis.ifelse(r.initiator == "agent", r.creator, r.fa_agent),
            last_agent=self.last_responding_agent(r),
            last_act=ibis.ifelse(
                r.ended.notnull() & (r.act_last.isnull() | (r.ended > r.act_last)), r.ended, r.act_last
            ),
            transfers=r.transfers.fill_null(0),
            escalations=r.escalations.fill_null(0),
        )
        conv = r.fv.notnull() & r.fa.notnull()
        r = r.mutate(
            conv=conv,
            engaged=ibis.ifelse(r.fv >= r.fa, r.fv, r.fa),
            other=ibis.ifelse(r.initiator == "visitor", r.fa.notnull(), r.fv.notnull()),
            pending=~conv & r.ended.isnull() & ((b.as_of - r.created) < b.response_timeout),
        )
        start = r.act_first.coalesce(r.engaged)
        r = r.mutate(conv_start=start, conv_end=r.last_act.coalesce(start))
        return r.drop("fv_resp", "fa_resp", "fa_agent", "act_first", "act_last", "la", "la_id", "la_agent")

    def conversations(self, requests: ir.Table) -> ir.Table:
        """The requests that became conversations, with the first-contact-resolution flag."""
        b = self.bounds
        conv = requests.filter(requests.conv)
        visitor_requests = requests.filter(requests.initiator == "visitor").select(
            v2="visitor", created2="created"
        )
        # A visitor request in (end, end + fcr_window] means the issue came back.
        came_back = conv.join(
            visitor_requests,
            (conv.visitor == visitor_requests.v2)
            & (visitor_requests.created2 > conv.conv_end)
            & (visitor_requests.created2 <= conv.conv_end + b.fcr_window),
        ).select(back="request").distinct()
        conv = conv.left_join(came_back, conv.request == came_back.back)
        fcr = (conv.resolved.fill_null(False)) & (conv.transfers == 0) & conv.back.isnull()
        return conv.mutate(fcr=fcr).drop("back")

    def conversation_agents(self, requests: ir.Table) -> ir.Table:
        """(request, agent) for every agent who responded in a request (the creator included)."""
        responses = self.responses()
        responders = responses.filter(responses.side == "agent").select("request", "agent")
        creators = requests.filter((requests.initiator == "agent") & requests.creator.notnull())
        return responders.union(creators.select("request", agent=creators.creator)).distinct()

    def request_counts(self, requests: ir.Table) -> ir.Table:
        """Per local day and hour, channel and initiator: request and conversation sums."""
        r = self.localised(self.conversations_flagged(requests), "created")
        conv = r.conv
        return r.group_by(["day", "hour", "channel", "initiator"]).aggregate(
            req=_.count(),
            offline=_flag(r.offline).sum(),
            other=_flag(r.other).sum(),
            not_conv=_flag(~conv).sum(),
            pend=_flag(r.pending).sum(),
            pend_other=_flag(r.pending & r.other).sum(),
            conv=_flag(conv).sum(),
            conv_duration=ibis.ifelse(conv, r.conv_end - r.conv_start, 0).sum(),
            conv_handle=ibis.ifelse(conv, r.conv_end - r.engaged, 0).sum(),
            transferred=_flag(conv & (r.transfers > 0)).sum(),
            escalated=_flag(conv & (r.escalations > 0)).sum(),
            fcr_den=_flag(conv & r.resolved.notnull()).sum(),
            fcr_num=_flag(conv & r.fcr).sum(),
        )

    def conversations_flagged(self, requests: ir.Table) -> ir.Table:
        """Every request with the ``fcr`` flag of its conversation (False when none)."""
        flags = self.conversations(requests).select(fcr_request="request", fcr="fcr")
        joined = requests.left_join(flags, requests.request == flags.fcr_request)
        return joined.mutate(fcr=joined.fcr.fill_null(False)).drop("fcr_request")

    def agent_request_counts(self, requests: ir.Table) -> ir.Table:
        """Per local day and creating agent: initiated requests and their outcomes."""
        r = self.localised(requests.filter((requests.initiator == "agent") & requests.creator.notnull()), "created")
        return r.group_by(["day", r.creator.name("agent")]).aggregate(
            a_init=_.count(),
            a_init_other=_flag(r.other).sum(),
            a_pend=_flag(r.pending).sum(),
            a_pend_other=_flag(r.pending & r.other).sum(),
        )

    def waits(self, requests: ir.Table) -> ir.Table:
        """Visitor requests in range with an agent response: the wait in microseconds."""
        r = requests.filter((requests.initiator == "visitor") & requests.fa.notnull())
        r = r.filter(self.in_range(r.created))
        return r.select("visitor", "first_agent", "created", wait=r.fa - r.created)

    def first_response_agents(self, requests: ir.Table) -> ir.Table:
        """Per local day and first responding agent: the sum and count of waits."""
        w = self.localised(self.waits(requests), "created")
        w = w.filter(w.first_agent.notnull())
        return w.group_by(["day", w.first_agent.name("agent")]).aggregate(
            a_fr_sum=w.wait.sum(), a_fr_n=_.count()
        )

    def wait_summary(self, requests: ir.Table) -> ir.Table:
        """How many waits, and their sum."""
        return self.waits(requests).aggregate(n=_.count(), total=_.wait.sum())

    def wait_ranks(self, requests: ir.Table, ranks: list[int]) -> ir.Table:
        """The waits at the given 0-based ranks of the sorted waits (percentiles from ranks)."""
        w = self.waits(requests)
        w = w.mutate(rank=ibis.row_number().over(order_by=w.wait))
        return w.filter(w.rank.isin(ranks)).select("rank", "wait")

    def agent_conversations(self, requests: ir.Table) -> ir.Table:
        """Per local day and responding agent: conversations and their handling time."""
        conv = self.localised(requests.filter(requests.conv), "created")
        agents = self.conversation_agents(requests).rename(agent_request="request")
        joined = conv.join(agents, conv.request == agents.agent_request)
        return joined.group_by(["day", "agent"]).aggregate(
            a_conv=_.count(), a_handle=(joined.conv_end - joined.engaged).sum()
        )

    def request_urls(self, requests: ir.Table) -> ir.Table:
        """Per (url, visitor): requests in range and their conversations.

        A request's url is its own, else the visitor's latest page view at or
        before its creation (as ``top_urls`` and ``pages`` read it).
        """
        r = requests.filter(self.in_range(requests.created))
        views = self.events.filter(self.events.type == "page_view").select(
            pv_visitor="visitor", pv_us="us", pv_id="id", pv_url="url"
        )
        missing = r.filter(r.url.isnull())
        candidates = missing.join(
            views, (missing.visitor == views.pv_visitor) & (views.pv_us <= missing.created)
        )
        latest = candidates.mutate(
            _rank=ibis.row_number().over(
                group_by=candidates.request, order_by=[ibis.desc("pv_us"), ibis.desc("pv_id")]
            )
        )
        latest = latest.filter(latest._rank == 0).select("visitor", "conv", url="pv_url")
        urls = r.filter(r.url.notnull()).select("visitor", "conv", "url").union(latest, distinct=False)
        return urls.group_by(["url", "visitor"]).aggregate(
            requests=_.count(), conversations=_flag(urls.conv).sum()
        )

    def page_viewers(self) -> ir.Table:
        """Per (url, visitor): page views in range."""
        ev = self.events
        views = ev.filter((ev.type == "page_view") & ev.visitor.notnull() & ev.url.notnull())
        views = views.filter(self.in_range(views.us))
        return views.group_by(["url", "visitor"]).aggregate(views=_.count())

    def url_requests(self, requests: ir.Table) -> ir.Table:
        """Per url: requests in range on it (see :meth:`request_urls`) and their conversations."""
        urls = self.request_urls(requests)
        return urls.group_by("url").aggregate(requests=urls.requests.sum(), conversations=urls.conversations.sum())

    def page_stats(self, requests: ir.Table) -> ir.Table:
        """Per url with a page view in range: views, distinct viewers, and viewers with a request on it."""
        views = self.page_viewers()
        asked = self.request_urls(requests).select(r_url="url", r_visitor="visitor")
        joined = views.left_join(asked, (views.url == asked.r_url) & (views.visitor == asked.r_visitor))
        return joined.group_by("url").aggregate(
            views=joined.views.sum(), viewers=_.count(), chatted=_flag(joined.r_visitor.notnull()).sum()
        )

    # -- experiments and waiting --------------------------------------------------

    def exposures(self, winners: ir.Table) -> ir.Table:
        """Per exposure in range (an auto request's winning creation, a holdout event):
        its orders in ``[ts, ts + attribution_window]`` (count, value sum)."""
        b = self.bounds
        ev = self.events
        requests = ev.filter(ev.type == "request")
        first = _first(requests, "request")
        invited = first.filter((first.initiator == "auto") & first.trigger.notnull())
        invited = invited.select("trigger", "visitor", "us", "id", arm=ibis.literal("invited"))
        held = ev.filter((ev.type == "holdout") & ev.trigger.notnull())
        held = held.select("trigger", "visitor", "us", "id", arm=ibis.literal("held_out"))
        exposures = invited.union(held, distinct=False)
        exposures = exposures.filter(exposures.visitor.notnull() & self.in_range(exposures.us))
        orders = winners.select(o_visitor="visitor", o_us="us", o_value="value")
        joined = exposures.left_join(
            orders,
            (exposures.visitor == orders.o_visitor)
            & (orders.o_us >= exposures.us)
            & (orders.o_us <= exposures.us + b.attribution_window),
        )
        return joined.group_by(["trigger", "visitor", "us", "id", "arm"]).aggregate(
            orders=_flag(joined.o_us.notnull()).sum(), gmv=joined.o_value.sum()
        )

    def visitor_waits(self, requests: ir.Table) -> ir.Table:
        """Visitor requests created in range: first agent response, first end, and
        the visitor's last event instant (all microseconds)."""
        ev = self.events
        ends = ev.filter(ev.type == "request_end").group_by("request").aggregate(first_end=_.us.min())
        last = ev.filter(ev.visitor.notnull()).group_by("visitor").aggregate(last_us=_.us.max())
        r = requests.filter((requests.initiator == "visitor") & self.in_range(requests.created))
        r = _left(r.select("request", "visitor", "created", "fa"), ends, "request")
        r = _left(r, last, "visitor")
        return r.select("request", "created", "fa", "first_end", "last_us")

    # -- events, sessions, orders, surveys ------------------------------------------

    def event_days(self) -> ir.Table:
        """Per local day: distinct visitors, widget viewers and clickers; auto messages."""
        ev = self.localised(self.events.filter(self.events.visitor.notnull()), "us")
        return ev.group_by("day").aggregate(**self._event_figures(ev))

    def event_totals(self) -> ir.Table:
        """The same distinct counts over the whole range."""
        ev = self.events.filter(self.events.visitor.notnull())
        ev = ev.filter(self.in_range(ev.us))
        return ev.aggregate(**self._event_figures(ev))

    @staticmethod
    def _event_figures(ev: ir.Table) -> dict[str, ir.Value]:
        seen = ev.type.isin(["widget_impression", "widget_click"])
        return {
            "visitors": ev.visitor.nunique(),
            "seen": ev.visitor.nunique(where=seen),
            "clicked": ev.visitor.nunique(where=ev.type == "widget_click"),
            "auto_shown": _flag(ev.type == "auto_message").sum(),
            "auto_clicks": _flag(ev.type == "auto_message_click").sum(),
        }

    def top_triggers(self, limit: int) -> ir.Table:
        """The most clicked auto message triggers in range."""
        clicks = self._auto_clicks()
        counted = clicks.group_by("trigger").aggregate(clicks=_.count())
        return counted.order_by([ibis.desc("clicks"), ibis.asc("trigger")]).limit(limit)

    def top_links(self, limit: int) -> ir.Table:
        """The most clicked (trigger, link) pairs in range."""
        clicks = self._auto_clicks()
        clicks = clicks.filter(clicks.link.notnull() & (clicks.link != ""))
        counted = clicks.group_by(["trigger", "link"]).aggregate(clicks=_.count())
        return counted.order_by([ibis.desc("clicks"), ibis.asc("trigger"), ibis.asc("link")]).limit(limit)

    def _auto_clicks(self) -> ir.Table:
        ev = self.events
        clicks = ev.filter((ev.type == "auto_message_click") & ev.visitor.notnull())
        return clicks.filter(self.in_range(clicks.us))

    def numbered_events(self) -> ir.Table:
        """Every event with a visitor, with the ``number`` of its session (1 = the visitor's first).

        Sessions as :func:`whoson.core.projection.session_groups` cuts them:
        a new explicit page_view session id, or a gap of ``session_timeout``.
        """
        b = self.bounds
        ev = self.events.filter(self.events.visitor.notnull())
        ev = ev.mutate(explicit=ibis.ifelse(ev.type == "page_view", ev.session, ibis.null("string")))
        order = [ibis.asc("us"), ibis.asc("id")]
        explicit = ev.filter(ev.explicit.notnull())
        explicit = explicit.select(
            ex_id="id",
            prev_explicit=explicit.explicit.lag().over(group_by=explicit.visitor, order_by=order),
        )
        ev = ev.left_join(explicit, ev.id == explicit.ex_id).drop("ex_id")
        ev = ev.mutate(prev_us=ev.us.lag().over(group_by=ev.visitor, order_by=order))
        starts = ibis.ifelse(
            ev.prev_us.isnull(),
            True,
            ibis.ifelse(
                ev.explicit.notnull(),
                ev.prev_explicit.isnull() | (ev.explicit != ev.prev_explicit),
                (ev.us - ev.prev_us) >= b.session_timeout,
            ),
        )
        ev = ev.mutate(_start=_flag(starts))
        ev = ev.mutate(number=ev._start.cumsum(group_by=ev.visitor, order_by=order))
        return ev.drop("_start", "prev_us", "prev_explicit", "explicit")

    def sessions(self, winners: ir.Table) -> ir.Table:
        """Every session of every visitor (as of as_of): start, number, cart, orders."""
        ev = self.numbered_events()
        counted = winners.select(win_id="id")
        ev = ev.left_join(counted, ev.id == counted.win_id)
        cart = ibis.ifelse(ev.type == "cart_update", ev.value, ibis.null("decimal(38, 6)"))
        return ev.group_by(["visitor", "number"]).aggregate(
            start=ev.us.min(),
            max_cart=cart.max(),
            orders=_flag((ev.type == "order") & ev.win_id.notnull()).sum(),
        )

    def session_counts(self, sessions: ir.Table) -> ir.Table:
        """Per local day of the session start: sessions, carts, abandoned carts."""
        s = self.localised(sessions, "start")
        cart = s.max_cart.notnull() & (s.max_cart > 0)
        return s.group_by("day").aggregate(
            sessions=_.count(),
            cart_sessions=_flag(cart).sum(),
            cart_abandoned=_flag(cart & (s.orders == 0)).sum(),
        )

    def returning(self, sessions: ir.Table) -> ir.Table:
        """Distinct visitors with a returning session starting in range."""
        s = sessions.filter(self.in_range(sessions.start) & (sessions.number > 1))
        return s.aggregate(returning=s.visitor.nunique())

    def winners(self) -> ir.Table:
        """Each order id's counting event (earliest ``(ts, id)``), with its value."""
        orders = self.events.filter(self.events.type == "order")
        first = _first(orders, "order")
        return first.select(
            "id", "visitor", "us", order_id=first.order,
            value=first.subtotal - first.discount.fill_null(0),
        )

    def attributed(self, winners: ir.Table, requests: ir.Table) -> ir.Table:
        """Orders in range with their last-touch conversation (null columns when none)."""
        b = self.bounds
        orders = winners.filter(self.in_range(winners.us))
        conv = requests.filter(requests.conv).select(
            c_visitor="visitor", c_request="request", c_engaged="engaged", c_channel="channel",
            c_agent="last_agent",
        )
        touches = orders.join(
            conv,
            (orders.visitor == conv.c_visitor)
            & (conv.c_engaged <= orders.us)
            & (conv.c_engaged >= orders.us - b.attribution_window),
        )
        ranked = touches.mutate(
            _rank=ibis.row_number().over(
                group_by=touches.order_id, order_by=[ibis.desc("c_engaged"), ibis.desc("c_request")]
            )
        )
        last = ranked.filter(ranked._rank == 0).select("order_id", "c_channel", "c_agent", "c_request")
        return orders.left_join(last, "order_id").drop("order_id_right")

    def order_counts(self, attributed: ir.Table) -> ir.Table:
        """Per local day, attributing channel and agent: orders, GMV, attributed share."""
        o = self.localised(attributed, "us")
        hit = o.c_channel.notnull()
        zero = ibis.literal(0).cast("decimal(38, 6)")
        return o.group_by(["day", "c_channel", "c_agent"]).aggregate(
            orders=_.count(),
            gmv=o.value.sum(),
            att_orders=_flag(hit).sum(),
            att_gmv=ibis.ifelse(hit, o.value, zero).sum(),
        )

    def buyers(self, attributed: ir.Table, requests: ir.Table) -> ir.Table:
        """Distinct visitors who talked in range, who bought (attributed) in range, and both."""
        talked = requests.filter(requests.conv & self.in_range(requests.created)).select(
            t_visitor="visitor"
        ).distinct()
        bought = attributed.filter(attributed.c_channel.notnull()).select(b_visitor="visitor").distinct()
        both = talked.join(bought, talked.t_visitor == bought.b_visitor)
        return (
            talked.aggregate(talked=_.count())
            .cross_join(bought.aggregate(bought=_.count()))
            .cross_join(both.aggregate(both=_.count()))
        )

    def surveys(self) -> ir.Table:
        """Surveys in range with their agent (else the request's last responding agent)."""
        ev = self.events
        surveys = ev.filter(ev.type == "survey")
        surveys = surveys.filter(self.in_range(surveys.us))
        surveys = surveys.select(
            "id", "visitor", "us", "rating", "feedback", s_agent="agent", s_request="request"
        )
        creations = self.creations().select(
            c_request="request", initiator="initiator", creator="creator", created="created", cid="cid"
        )
        last = self.last_agents().rename(l_request="request")
        joined = surveys.left_join(creations, surveys.s_request == creations.c_request)
        joined = joined.left_join(last, joined.s_request == last.l_request)
        return joined.mutate(
            agent=joined.s_agent.coalesce(self.last_responding_agent(joined))
        ).select("id", "visitor", "us", "rating", "feedback", "agent")

    def rating_counts(self, surveys: ir.Table) -> ir.Table:
        """Per local day, rating and agent: how many surveys, and their rating sum."""
        s = self.localised(surveys.filter(surveys.rating.notnull()), "us")
        return s.group_by(["day", "rating", "agent"]).aggregate(n=_.count())

    def feedback(self, surveys: ir.Table) -> ir.Table:
        """Surveys in range with a rating or written feedback."""
        s = surveys.filter(surveys.rating.notnull() | (surveys.feedback.notnull() & (surveys.feedback != "")))
        return s.select(*FEEDBACK_COLUMNS)

    def agents(self, requests: ir.Table, attributed: ir.Table, surveys: ir.Table) -> ir.Table:
        """Every agent named by an in-range event or credited with a figure in range."""
        ev = self.events.filter(self.in_range(self.events.us))
        named = [ev.select(agent=ev[column]) for column in ("agent", "from_agent", "to_agent")]
        waits = self.waits(requests)
        named.append(waits.select(agent=waits.first_agent))
        conv = requests.filter(requests.conv & self.in_range(requests.created)).select(c_request="request")
        agents = self.conversation_agents(requests)
        named.append(agents.join(conv, agents.request == conv.c_request).select("agent"))
        named.append(attributed.select(agent=attributed.c_agent))
        named.append(surveys.select("agent"))
        union = named[0]
        for part in named[1:]:
            union = union.union(part)
        return union.filter(union.agent.notnull()).distinct()
