"""Errors raised for invalid input: a scenario, a command-line option, a threshold;
and `RunBroken`, a run that could not go on.

Every `InvalidInput` means "nothing was fired": the CLI maps it to exit code 2, and
`RunBroken` to 3. (Here, not beside the controller, so the CLI can catch them without
importing it: a worker process starts faster.)
"""

from __future__ import annotations


class InvalidInput(Exception):
    """Base class of every error about user input (exit code 2)."""


class ScenarioError(InvalidInput):
    """A scenario file is invalid. `str()` is short and starts with `file:line:`.

    >>> str(ScenarioError("no user classes", file="s.py", line=1))
    's.py:1: no user classes'
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def located(self, file: str | None, line: int | None) -> ScenarioError:
        """Return this error with a location, keeping one already set."""
        if self.file is None:
            self.file = file
            self.line = line
        return self

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class ConfigError(InvalidInput):
    """An option (duration, stages, profile, host...) is invalid."""


class RunBroken(Exception):
    """The run could not go on (no workers, every worker lost or failed)."""
