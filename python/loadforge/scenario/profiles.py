"""Built-in load profiles: `--profile smoke` instead of `-u 5 -t 30s`."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class Profile:
    """A named closed-model load: users, run time, spawn rate."""

    name: str
    users: int
    run_time_s: float
    spawn_rate: float
    description: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("smoke", 5, 30.0, 5.0, "does it work at all"),
        Profile("quick", 10, 60.0, 2.0, "a quick look"),
        Profile("standard", 20, 300.0, 2.0, "a normal test"),
        Profile("load", 50, 600.0, 5.0, "expected peak load"),
        Profile("spike", 100, 120.0, 50.0, "a sudden burst"),
        Profile("endurance", 20, 1800.0, 2.0, "leaks and drift over time"),
        Profile("stress", 100, 900.0, 5.0, "beyond expected load"),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called `name`; `ConfigError` lists the known ones otherwise."""
    try:
        return PROFILES[name.lower()]
    except KeyError:
        raise ConfigError(
            f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None
