"""Engagement rules: conditions on the live view that send auto messages and invitations.

See :class:`RuleEngine`, :func:`load_rules` and docs/rules.md.
"""

from whoson.core.time import parse_duration
from whoson.rules.conditions import (
    All,
    Any,
    Condition,
    Not,
    PagesViewedAtLeast,
    PageVisitsAtLeast,
    ReferrerMatches,
    TimeOnPage,
    TimeOnSite,
    UrlMatches,
    VisitedInOrder,
)
from whoson.rules.engine import RuleEngine, fired_id
from whoson.rules.loading import load_rules, rules_from_data
from whoson.rules.model import Action, Invite, Limits, Rule, ShowMessage
from whoson.rules.visitor_conditions import (
    AgentsOnline,
    CartValueAtLeast,
    CountryIn,
    CustomerKnown,
    DeviceIn,
    HasOrdered,
    HasSignal,
    NotInChat,
    Returning,
)

__all__ = [
    "Action",
    "AgentsOnline",
    "All",
    "Any",
    "CartValueAtLeast",
    "Condition",
    "CountryIn",
    "CustomerKnown",
    "DeviceIn",
    "HasOrdered",
    "HasSignal",
    "Invite",
    "Limits",
    "Not",
    "NotInChat",
    "PageVisitsAtLeast",
    "PagesViewedAtLeast",
    "ReferrerMatches",
    "Returning",
    "Rule",
    "RuleEngine",
    "ShowMessage",
    "TimeOnPage",
    "TimeOnSite",
    "UrlMatches",
    "VisitedInOrder",
    "fired_id",
    "load_rules",
    "parse_duration",
    "rules_from_data",
]
