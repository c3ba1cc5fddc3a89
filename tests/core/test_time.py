"""The one duration parser (whoson.core.time.parse_duration) and the settings that read it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from whoson.core.errors import ConfigError
from whoson.core.time import LONGEST_DURATION, parse_duration
from whoson.live import LiveConfig
from whoson.metrics import params
from whoson.rules import TimeOnPage
from whoson.rules import parse_duration as rules_parse_duration
from whoson.rules.loading import rules_from_data


class TestAccepted:
    """Everything any of the three former parsers accepted reads the same."""

    @pytest.mark.parametrize(
        ("value", "seconds"),
        [
            # report windows (formerly whoson.metrics.params.parse_duration)
            ("30s", 30), ("10m", 600), ("24h", 86400), ("7d", 604800), ("2w", 1209600),
            ("1h30m", 5400), (" 1H 30M ", 5400), ("1.5h", 5400),
            # rules (formerly whoson.rules.loading.parse_duration)
            (90, 90), (1.5, 1.5), (Decimal("2.5"), 2.5), ("90", 90), (" 90 ", 90), ("90s", 90),
            # live settings (formerly whoson.live.config.to_timedelta)
            (0, 0), (-5, -5),
        ],
    )
    def test_value_reads_as_seconds(self, value: Any, seconds: float) -> None:
        """Numbers are seconds; text is seconds or parts with an s/m/h/d/w unit."""
        assert timedelta(seconds=seconds) == parse_duration(value)

    def test_timedelta_passes_through(self) -> None:
        """A timedelta is returned as it is, even a long or negative one."""
        for value in (timedelta(days=-1), timedelta.max):
            assert value is parse_duration(value)

    def test_old_public_paths_are_the_one_parser(self) -> None:
        """The metrics and rules packages export the same function."""
        assert (parse_duration, parse_duration) == (params.parse_duration, rules_parse_duration)


class TestRefused:
    """Anything else raises ConfigError naming the value and the rule."""

    @pytest.mark.parametrize("value", ["soon", "", "5x", "-5s", "1h-30m", "s", True, None, [90], float("nan")])
    def test_unreadable(self, value: Any) -> None:
        """The message states the rule and repeats the value."""
        with pytest.raises(ConfigError) as caught:
            parse_duration(value)
        expected = f"must be a number of seconds or a duration like '90s', '10m', '1h' (got {value!r})"
        assert expected == str(caught.value)

    @pytest.mark.parametrize("value", ["36526d", "99999999999d", 10**12, float("inf"), "9" * 400 + "s"])
    def test_beyond_a_century(self, value: Any) -> None:
        """Durations over 100 years are refused before any arithmetic overflows."""
        with pytest.raises(ConfigError, match=f"at most {LONGEST_DURATION.days} days"):
            parse_duration(value)

    def test_a_century_is_accepted(self) -> None:
        """The bound itself is allowed."""
        assert LONGEST_DURATION == parse_duration("36525d")


class TestSettings:
    """Each setting reads durations through the one parser and keeps its own range check."""

    def test_live_config_reads_text_and_numbers(self) -> None:
        """LiveConfig thresholds accept seconds and, now, text."""
        config = LiveConfig(presence_timeout=90, lingering="2m")
        assert (timedelta(seconds=90), timedelta(minutes=2)) == (config.presence_timeout, config.lingering)

    def test_live_config_range_message_is_kept(self) -> None:
        """A negative number still fails the setting's own check, naming the setting."""
        with pytest.raises(ValueError, match="presence_timeout must be positive"):
            LiveConfig(presence_timeout=-5)

    def test_condition_range_message_is_kept(self) -> None:
        """A negative time on page fails the condition's own check."""
        with pytest.raises(ValueError, match="at_least must be >= 0"):
            TimeOnPage(-1)

    @pytest.mark.parametrize(
        ("when", "limits", "message"),
        [
            ({"time_on_page": -5}, None, "rule 'r': when.time_on_page: must be >= 0"),
            ({"time_on_site": "later"}, None, "rule 'r': when.time_on_site: must be a number of seconds or a "
                                              "duration like '90s', '10m', '1h' (got 'later')"),
            (None, {"cooldown": -1}, "rule 'r': limits.cooldown: must be >= 0"),
            (None, {"cooldown": 0}, "rule 'r': limits.cooldown: must be positive"),
        ],
    )
    def test_rule_messages(self, when: Any, limits: Any, message: str) -> None:
        """Rule files name the rule and key before the duration's rule."""
        rule: dict[str, Any] = {"name": "r", "action": {"type": "message", "message": "m"}}
        if when is not None:
            rule["when"] = when
        if limits is not None:
            rule["limits"] = limits
        with pytest.raises(ConfigError) as caught:
            rules_from_data({"rules": [rule]})
        assert message == str(caught.value).removeprefix("<data>: ")
