"""Bounded retries with exponential backoff for reads from remote stores.

Object stores and HTTP servers fail transiently: a dropped connection, a 500 or 503, a body
cut short, a stall.  :class:`~sparkbam_py.channel.caching.CachingChannel` retries each page
fetch a bounded number of times, sleeping ``first_delay * factor**k`` (capped, with jitter so
the tasks of a job do not retry in lockstep) before retry ``k``; a source's read timeout
turns a stall into an error that is retried like any other.  When every attempt fails, the
caller gets one :class:`~sparkbam_py.errors.InputIOError` naming the URL and byte range:
never fewer or other bytes than asked for.

The defaults follow the AWS SDKs' "standard" retry mode: a few attempts, base delay of
about 0.1 s doubling per retry, capped (AWS SDK retry behavior, "Standard retry mode").
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass

from ..errors import ConfigError

DEFAULT_FIRST_DELAY = 0.1  # seconds before the first retry
DEFAULT_BACKOFF_FACTOR = 2.0
DEFAULT_MAX_DELAY = 2.0  # seconds: a cap, so the whole retry budget stays a few seconds
# Seconds an HTTP read may wait for the server before it counts as a stalled, failed attempt;
# executors take another value from this variable (e.g. spark.executorEnv.SPARKBAM_READ_TIMEOUT).
DEFAULT_READ_TIMEOUT = 20.0
READ_TIMEOUT_VARIABLE = "SPARKBAM_READ_TIMEOUT"


def read_timeout() -> float:
    """The HTTP read timeout in seconds: ``$SPARKBAM_READ_TIMEOUT`` or 20."""
    text = os.environ.get(READ_TIMEOUT_VARIABLE)
    if not text:
        return DEFAULT_READ_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"{READ_TIMEOUT_VARIABLE} must be seconds, got {text!r}") from None
    if seconds <= 0:
        raise ConfigError(f"{READ_TIMEOUT_VARIABLE} must be positive, got {text!r}")
    return seconds


@dataclass(frozen=True)
class Backoff:
    """How long to wait before each retry: ``first_delay * factor**k``, at most ``max_delay``,
    scaled by a random factor in [0.5, 1] (AWS's "equal jitter")."""

    first_delay: float = DEFAULT_FIRST_DELAY
    factor: float = DEFAULT_BACKOFF_FACTOR
    max_delay: float = DEFAULT_MAX_DELAY

    def __post_init__(self):
        if self.first_delay < 0 or self.factor < 1 or self.max_delay < 0:
            raise ConfigError(f"backoff needs first_delay >= 0, factor >= 1, max_delay >= 0; got {self}")

    def delay(self, retry: int) -> float:
        """Seconds to sleep before retry number ``retry`` (0 for the first retry)."""
        base = min(self.max_delay, self.first_delay * self.factor ** retry)
        return base * (0.5 + random.random() / 2)

    def sleep(self, retry: int) -> None:
        seconds = self.delay(retry)
        if seconds:
            time.sleep(seconds)


NO_BACKOFF = Backoff(first_delay=0.0, max_delay=0.0)
