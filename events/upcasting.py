"""Upcasters: turn a stored record of an older schema version into the next version.

A breaking change to a record type is a new version (``v: Literal[n + 1]``) plus one
upcaster ``n -> n + 1`` registered here. Upcasters work on the decoded JSON object (a dict),
so no old class is needed at read time; the codec chains them up to the current version and
then converts the dict into the current struct. Only records older than the current version
take this path; everything else is decoded directly by msgspec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcastError(Exception):
    """No upcaster chain leads from a stored version to the current one."""


class Upcasters:
    """A registry of single-step upcasters keyed by (event type, from version)."""

    __slots__ = ("_steps",)

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator registering ``fn`` as the ``from_version -> from_version + 1`` step."""

        def add(fn: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._steps:
                raise ValueError(f"two upcasters for {event_type} v{from_version}")
            self._steps[key] = fn
            return fn

        return add

    def steps(self) -> frozenset[tuple[str, int]]:
        return frozenset(self._steps)

    def upcast(self, raw: dict[str, Any], event_type: str, to_version: int) -> dict[str, Any]:
        """``raw`` (a record of ``event_type`` at version ``raw["v"]``) at ``to_version``."""
        version = raw.get("v", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            raise UpcastError(f"{event_type}: schema version is not an integer: {version!r}")
        while version < to_version:
            step = self._steps.get((event_type, version))
            if step is None:
                raise UpcastError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
            raw = step(dict(raw))
            version += 1
            raw["v"] = version
        return raw


UPCASTERS: Final = Upcasters()

# --------------------------------------------------------------------------- thread.turn_failed

_API_ERROR_CLASSES: Final = {
    "rate_limit_error": "rate_limited",
    "overloaded_error": "overloaded",
    "api_error": "api_error",
    "invalid_request_error": "invalid_request",
    "request_too_large": "context_overflow",
    "timeout": "timeout",
    "timeout_error": "timeout",
    "stream_error": "stream_broken",
}
_RETRYABLE: Final = frozenset(
    {"rate_limited", "overloaded", "api_error", "timeout", "stream_broken"}
)


@UPCASTERS.register("thread.turn_failed", 1)
def _turn_failed_v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """v1 ``error: "<api error type>: <text>"`` -> v2 ``error_class``/``message``/``retryable``."""
    error = str(raw.pop("error", ""))
    prefix, sep, rest = error.partition(":")
    known = _API_ERROR_CLASSES.get(prefix.strip()) if sep else None
    error_class = known or "internal"
    raw["error_class"] = error_class
    raw["message"] = rest.strip() if known else error
    raw["retryable"] = error_class in _RETRYABLE
    return raw
