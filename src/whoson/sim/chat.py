"""Requests and conversations: who answers, how fast, and how it ends.

Visitor requests wait for an agent whose response time depends on their speed
and on how busy the hour is; a visitor whose patience runs out cancels (or the
request times out, or a video call rings out: ``missed``). With nobody online
a visitor leaves an offline message. Agent and auto invitations are accepted
or declined by the visitor. Conversations alternate messages (text) or run a
call (video), may be transferred or escalated, end with ``request_end`` and
sometimes a survey.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from whoson.sim.agents import HOUR, MINUTE, SECOND, Agent
from whoson.sim.catalogue import FEEDBACK_BAD, FEEDBACK_GOOD
from whoson.sim.world import Visitor, World

__all__ = ["ChatOutcome", "agent_invite", "auto_invite", "visitor_request"]


class ChatOutcome(NamedTuple):
    """When a request's last event happened, and when it became a conversation (if it did)."""

    end: int
    engaged: int | None


def _response_delay(w: World, agent: Agent, t: int) -> int:
    hour_weight = w.config.hourly_weights[(t // HOUR) % 24]
    online = len(w.roster.online_at(t))
    load = 0.7 + 1.2 * hour_weight / max(online, 1)
    return int(agent.speed * load * w.rng.lognormvariate(0.0, 0.6) * SECOND)


def _give_up(w: World, v: Visitor, rid: str, t: int, channel: str, patience: int) -> ChatOutcome:
    """Nobody answered in time: the request ends unsuccessful."""
    config = w.config
    if channel == "video":
        end, reason = t + config.video_ring_seconds * SECOND, "missed"
    elif patience >= config.text_timeout_seconds * SECOND:
        end, reason = t + config.text_timeout_seconds * SECOND, "timeout"
    else:
        end, reason = t + patience, "cancelled"
    w.visitor_event(end, "request_end", v, request=rid, reason=reason)
    return ChatOutcome(end, None)


def _request(w: World, v: Visitor, t: int, rid: str, channel: str, initiator: str, **fields: Any) -> None:
    w.visitor_event(t, "request", v, request=rid, channel=channel, initiator=initiator, **fields)


def _respond(w: World, v: Visitor, t: int, rid: str, channel: str, agent: Agent | None) -> None:
    """The first response of a side: a message for text, joining the call for video."""
    if channel == "video":
        if agent is None:
            w.visitor_event(t, "call_joined", v, request=rid, participant="visitor")
        else:
            w.visitor_event(t, "call_joined", v, request=rid, participant="agent", agent=agent.id)
    elif agent is None:
        w.visitor_event(t, "message", v, request=rid, sender="visitor", chars=w.rng.randint(8, 160))
    else:
        w.visitor_event(
            t,
            "message",
            v,
            request=rid,
            sender="agent",
            agent=agent.id,
            chars=w.rng.randint(30, 320),
        )


def visitor_request(w: World, v: Visitor, t: int, url: str, channel: str, department: str) -> ChatOutcome:
    """The visitor asks for a chat at ``t``; an agent answers, or not."""
    rng = w.rng
    rid = w.new_request_id()
    online = w.roster.online_at(t)
    if not online:
        _request(w, v, t, rid, "text", "visitor", url=url, offline=True, department=department)
        left = t + rng.randint(20, 120) * SECOND
        _respond(w, v, left, rid, "text", None)
        w.visitor_event(left + SECOND, "request_end", v, request=rid, reason="missed")
        return ChatOutcome(left + SECOND, None)
    _request(w, v, t, rid, channel, "visitor", url=url, department=department)
    first = t + (rng.randint(300, 2000) if channel == "video" else rng.randint(3, 25) * SECOND)
    _respond(w, v, first, rid, channel, None)
    agent = w.roster.pick(online, rng)
    if channel == "video" and rng.random() < 0.1:
        end = t + rng.randint(5, 40) * SECOND
        w.visitor_event(end, "request_end", v, request=rid, reason="declined")
        return ChatOutcome(end, None)
    delay = _response_delay(w, agent, t)
    patience = int(rng.expovariate(1 / 240) * SECOND) if channel == "text" else (w.config.video_ring_seconds * SECOND)
    if delay >= patience:
        return _give_up(w, v, rid, t, channel, patience)
    # The visitor responded by creating the request, so it is engaged when the agent answers.
    return _converse(w, v, rid, channel, agent, t + max(delay, SECOND), t, t)


def agent_invite(w: World, v: Visitor, t: int, url: str, agent: Agent, stuck: bool) -> ChatOutcome:
    """``agent`` approaches the visitor; a stuck visitor accepts more often."""
    rng = w.rng
    config = w.config
    rid = w.new_request_id()
    channel = "video" if rng.random() < config.video_share / 2 else "text"
    _request(w, v, t, rid, channel, "agent", agent=agent.id, url=url)
    accept = config.invite_accept_rate * (1.5 if stuck else 1.0)
    if rng.random() >= accept:
        if rng.random() < 0.6:
            end = t + rng.randint(4, 45) * SECOND
            w.visitor_event(end, "request_end", v, request=rid, reason="declined")
        else:
            end = t + config.text_timeout_seconds * SECOND
            w.visitor_event(end, "request_end", v, request=rid, reason="timeout")
        return ChatOutcome(end, None)
    click = t + rng.randint(6, 60) * SECOND
    w.visitor_event(click, "widget_click", v, url=url, source="notification")
    answer = click + rng.randint(2, 20) * SECOND
    _respond(w, v, answer, rid, channel, None)
    return _converse(w, v, rid, channel, agent, t, answer, t, agent_done=True)


def auto_invite(w: World, v: Visitor, t: int, url: str, trigger: str) -> ChatOutcome:
    """A rule invites the visitor to chat: an auto message plus an ``auto`` request."""
    rng = w.rng
    config = w.config
    rid = w.new_request_id()
    w.visitor_event(t, "auto_message", v, trigger=trigger, url=url)
    _request(w, v, t + 1, rid, "text", "auto", trigger=trigger, url=url)
    if rng.random() >= config.auto_accept_rate:
        end = t + (rng.randint(3, 40) * SECOND if rng.random() < 0.5 else config.text_timeout_seconds * SECOND)
        reason = "declined" if end - t < config.text_timeout_seconds * SECOND else "timeout"
        w.visitor_event(end, "request_end", v, request=rid, reason=reason)
        return ChatOutcome(end, None)
    click = t + rng.randint(4, 40) * SECOND
    w.visitor_event(click, "auto_message_click", v, trigger=trigger)
    answer = click + rng.randint(5, 25) * SECOND
    _respond(w, v, answer, rid, "text", None)
    online = w.roster.online_at(answer)
    if not online:
        return _give_up(w, v, rid, answer, "text", config.text_timeout_seconds * SECOND)
    agent = w.roster.pick(online, rng)
    delay = _response_delay(w, agent, answer)
    patience = int(rng.expovariate(1 / 240) * SECOND)
    if delay >= patience:
        return _give_up(w, v, rid, answer, "text", patience)
    return _converse(w, v, rid, "text", agent, answer + max(delay, SECOND), answer, t)


def _converse(
    w: World,
    v: Visitor,
    rid: str,
    channel: str,
    agent: Agent,
    agent_at: int,
    visitor_at: int,
    created: int,
    agent_done: bool = False,
) -> ChatOutcome:
    """Both sides respond; the conversation runs, may move, ends and is maybe rated."""
    rng = w.rng
    config = w.config
    if not agent_done:
        _respond(w, v, agent_at, rid, channel, agent)
    engaged = max(agent_at, visitor_at)
    t = engaged
    current = agent
    transferred = False
    if channel == "text":
        exchanges = rng.randint(2, 10)
        move_at = rng.randrange(1, exchanges) if rng.random() < config.transfer_rate else -1
        for step in range(exchanges):
            if step == move_at:
                t, current, moved = _transfer(w, v, rid, t, current, "text")
                transferred = transferred or moved
            t += rng.randint(6, 60) * SECOND
            w.visitor_event(t, "message", v, request=rid, sender="visitor", chars=rng.randint(8, 160))
            t += int(current.speed * rng.uniform(0.3, 1.2) * SECOND)
            w.visitor_event(
                t,
                "message",
                v,
                request=rid,
                sender="agent",
                agent=current.id,
                chars=rng.randint(30, 320),
            )
    else:
        length = int(rng.lognormvariate(0.0, 0.5) * 6 * MINUTE)
        if rng.random() < 0.4:
            w.visitor_event(
                t + length // 3,
                "message",
                v,
                request=rid,
                sender="agent",
                agent=current.id,
                chars=rng.randint(20, 120),
            )
        t += length
        if rng.random() < config.transfer_rate:
            t, current, moved = _transfer(w, v, rid, t, current, "video")
            transferred = moved
            t += int(rng.lognormvariate(0.0, 0.5) * 4 * MINUTE)
    end = t + rng.randint(2, 40) * SECOND
    resolved = rng.random() < current.skill
    closing: dict[str, Any] = {"request": rid, "reason": "closed"}
    if rng.random() < 0.9:
        closing["resolved"] = resolved
    w.visitor_event(end, "request_end", v, **closing)
    v.engaged_at = engaged
    if rng.random() >= config.survey_rate:
        return ChatOutcome(end, engaged)
    return ChatOutcome(_survey(w, v, rid, end, current, resolved, engaged - created, transferred), engaged)


def _transfer(w: World, v: Visitor, rid: str, t: int, current: Agent, channel: str) -> tuple[int, Agent, bool]:
    rng = w.rng
    others = [a for a in w.roster.online_at(t) if a is not current]
    if not others:
        return t, current, False
    escalate = rng.random() < w.config.escalation_share
    bosses = [a for a in others if a.supervisor]
    target = bosses[0] if escalate and bosses else w.roster.pick(others, rng)
    w.visitor_event(
        t,
        "transfer",
        v,
        request=rid,
        from_agent=current.id,
        to_agent=target.id,
        escalation=escalate,
    )
    t += rng.randint(20, 90) * SECOND
    _respond(w, v, t, rid, channel, target)
    return t, target, True


def _survey(
    w: World,
    v: Visitor,
    rid: str,
    end: int,
    agent: Agent,
    resolved: bool,
    wait: int,
    transferred: bool,
) -> int:
    rng = w.rng
    at = end + rng.randint(3, 40) * SECOND
    submitted = rng.random() < w.config.survey_submit_rate
    fields: dict[str, Any] = {"request": rid, "agent": agent.id}
    if submitted or rng.random() < 0.35:
        mean = 2.2 + 2.6 * agent.skill + (0.6 if resolved else -0.7)
        mean -= (0.8 if wait > 2 * MINUTE else 0.0) + (0.4 if transferred else 0.0)
        rating = min(5, max(1, round(rng.gauss(mean, 0.9))))
        fields["rating"] = rating
        if submitted and rng.random() < 0.35:
            fields["feedback"] = rng.choice(FEEDBACK_GOOD if rating >= 4 else FEEDBACK_BAD)
    fields["submitted"] = submitted
    w.visitor_event(at, "survey", v, **fields)
    return at
