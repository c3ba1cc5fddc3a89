"""The simulated support team: who works when, how fast and how well.

Each agent has a median first-response time (``speed``, seconds) and a
``skill`` in [0, 1] that drives resolution and ratings. Weekday shifts are
early (07:00-15:30), late (13:30-22:00) and the supervisor's day shift
(09:00-17:30); a rotating few cover weekends. Breaks are ``away`` spells.
Nights have nobody online, so visitors leave offline requests.

>>> import random
>>> roster = Roster.build(SimConfig(agents=6), days=7, rng=random.Random(1))
>>> [a.id for a in roster.agents]
['sam', 'alice', 'bruno', 'chen', 'dana', 'emil']
>>> roster.online_at(3 * HOUR)  # 03:00 on the first day: nobody
[]
>>> len(roster.online_at(10 * HOUR + 5 * MINUTE)) >= 2
True
"""

from __future__ import annotations

import random
from bisect import bisect_right
from typing import Any

import attrs

from whoson.sim.catalogue import AGENT_NAMES
from whoson.sim.config import SimConfig

__all__ = ["DAY", "HOUR", "MINUTE", "SECOND", "Agent", "Roster"]

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# (start, end) of each shift in ms after local midnight.
_SHIFTS = {
    "early": (7 * HOUR, 15 * HOUR + 30 * MINUTE),
    "late": (13 * HOUR + 30 * MINUTE, 22 * HOUR),
    "day": (9 * HOUR, 17 * HOUR + 30 * MINUTE),
}


@attrs.frozen
class Agent:
    """One member of the team and their working habits."""

    id: str
    name: str
    speed: float
    skill: float
    capacity: int
    shift: str
    supervisor: bool = False


@attrs.define
class Roster:
    """The team plus each agent's status timeline (times in ms since the start)."""

    agents: list[Agent]
    times: list[list[int]]
    statuses: list[list[str]]
    events: list[tuple[int, dict[str, Any]]]

    @classmethod
    def build(cls, config: SimConfig, days: int, rng: random.Random, first_weekday: int = 0) -> Roster:
        """Draw the team's traits and shifts for ``days`` days; day 0 is ``first_weekday``.

        ``first_weekday`` counts from Monday = 0, like :meth:`datetime.date.weekday`.
        """
        agents = []
        for index, (agent_id, name) in enumerate(AGENT_NAMES[: config.agents]):
            supervisor = index == 0
            agents.append(
                Agent(
                    id=agent_id,
                    name=name,
                    speed=rng.uniform(12.0, 28.0) if supervisor else rng.uniform(15.0, 70.0),
                    skill=rng.uniform(0.8, 0.95) if supervisor else rng.uniform(0.45, 0.9),
                    capacity=config.agent_capacity,
                    shift="day" if supervisor else ("early", "late")[index % 2],
                    supervisor=supervisor,
                )
            )
        roster = cls(agents, [[] for _ in agents], [[] for _ in agents], [])
        staff = [i for i, agent in enumerate(agents) if not agent.supervisor] or list(range(len(agents)))
        for day in range(days):
            weekday = (first_weekday + day) % 7
            if weekday < 5:
                working = [(i, agents[i].shift) for i in range(len(agents))]
            else:
                # A rotating few cover the weekend, alternating early and late.
                count = min(config.weekend_agents, len(staff))
                offset = (day // 7) * count
                chosen = [staff[(offset + k) % len(staff)] for k in range(count)]
                working = [(i, ("early", "late")[k % 2]) for k, i in enumerate(chosen)]
            for index, shift in working:
                if weekday < 5 and rng.random() < 0.06:
                    continue  # a day off
                roster._work_day(index, day * DAY, shift, rng)
        roster.events.sort(key=lambda item: item[0])
        return roster

    def _work_day(self, index: int, midnight: int, shift: str, rng: random.Random) -> None:
        agent = self.agents[index]
        begin, end = _SHIFTS[shift]
        start = midnight + begin + rng.randrange(-10 * MINUTE, 10 * MINUTE)
        stop = midnight + end + rng.randrange(-15 * MINUTE, 15 * MINUTE)
        middle = (start + stop) // 2
        spells = [
            (start + rng.randrange(90 * MINUTE, 150 * MINUTE), rng.randrange(8, 16) * MINUTE),
            (middle + rng.randrange(-30 * MINUTE, 30 * MINUTE), 30 * MINUTE),
        ]
        if rng.random() < 0.4:
            spells.append((middle + rng.randrange(60 * MINUTE, 150 * MINUTE), 5 * MINUTE))
        self._set(index, start, "online", name=agent.name, capacity=agent.capacity)
        for away_at, length in sorted(spells):
            if away_at + length + MINUTE < stop:
                self._set(index, away_at, "away")
                self._set(index, away_at + length, "online", name=agent.name, capacity=agent.capacity)
        self._set(index, stop, "offline")

    def _set(self, index: int, t: int, status: str, **extra: Any) -> None:
        self.times[index].append(t)
        self.statuses[index].append(status)
        event: dict[str, Any] = {
            "id": None,
            "type": "agent_status",
            "ts": None,
            "agent": self.agents[index].id,
            "status": status,
            **extra,
        }
        self.events.append((t, event))

    def status_at(self, index: int, t: int) -> str:
        """Agent ``index``'s status at ``t`` (``offline`` before their first shift)."""
        position = bisect_right(self.times[index], t) - 1
        return self.statuses[index][position] if position >= 0 else "offline"

    def online_at(self, t: int) -> list[Agent]:
        """The agents online at ``t``, in roster order. O(agents * log changes)."""
        return [agent for i, agent in enumerate(self.agents) if self.status_at(i, t) == "online"]

    def pick(self, online: list[Agent], rng: random.Random, exclude: Agent | None = None) -> Agent:
        """A first-line agent for a new chat: supervisors only take a share of them."""
        pool = [a for a in online if a is not exclude] or online
        weights = [0.3 if agent.supervisor else 1.0 for agent in pool]
        return rng.choices(pool, weights)[0]
