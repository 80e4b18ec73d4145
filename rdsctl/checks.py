"""What every check of the doctor shares: a failure of one line of cause and one of fix, and
the way a step's outcome is printed."""

from collections.abc import Callable

from app.env import ConfigError

Echo = Callable[[str], object]
SETTINGS_FIX = "set it in .env or the environment; .env.example lists every setting"


class Failure(Exception):
    def __init__(self, step: str, cause: str, fix: str):
        super().__init__(cause)
        self.step, self.cause, self.fix = step, cause, fix


def ok(echo: Echo, step: str, detail: str) -> None:
    echo(f"  ok    {step:<16} {detail}")


def note(echo: Echo, step: str, detail: str) -> None:
    echo(f"  note  {step:<16} {detail}")


def failed(echo: Echo, step: str, cause: str, fix: str) -> None:
    echo(f"  FAIL  {step:<16} {cause}")
    echo(f"        {'fix':<16} {fix}")


def settings_failed(echo: Echo, error: ConfigError) -> None:
    failed(echo, "settings", str(error), SETTINGS_FIX)
