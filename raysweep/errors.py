"""The one exception type for problems a user can cause (bad input, missing files, bad config).

Command-line entry points turn it into a single line on stderr and exit code 2; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

EXIT_USER_ERROR = 2

F = TypeVar("F", bound=Callable[..., object])


class RaysweepError(Exception):
    """A problem with the user's input, reported as one line that names the problem and the fix."""


def cli_errors(main: F) -> F:
    """Wrap a CLI ``main``: a :class:`RaysweepError` becomes one ``error: ...`` line and exit 2."""

    @wraps(main)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return main(*args, **kwargs)
        except RaysweepError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(EXIT_USER_ERROR) from None

    return wrapper  # type: ignore[return-value]
