"""Input errors of the scenario API (defined in `loadforge.errors`, re-exported here)."""

from loadforge.errors import ConfigError, InvalidInput, ScenarioError

__all__ = ["ConfigError", "InvalidInput", "ScenarioError"]
