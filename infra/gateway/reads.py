"""Reads a gateway handler makes from a view (PostgreSQL, Redis, a topic tail): each bounded.

A view that does not answer within :data:`VIEW_READ_TIMEOUT` (or fails) raises
:class:`ViewUnavailable`; the error router tells the user that this piece of information
cannot be read right now. Nothing is written on such a path, so confirming the update loses
nothing, and a hung database never holds up a chat longer than the timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Final, TypeVar

T = TypeVar("T")

VIEW_READ_TIMEOUT: Final = 5.0
"""Seconds a handler waits for a view before answering that it is unavailable."""


class ViewUnavailable(Exception):
    """A view did not answer in time (or failed); ``what`` is the text key naming it for
    the user (``view.balance``: :mod:`actors.texts`)."""

    def __init__(self, what: str, cause: str) -> None:
        super().__init__(f"{what}: {cause}")
        self.what = what


async def read_view(call: Awaitable[T], *, what: str, timeout: float = VIEW_READ_TIMEOUT) -> T:
    """``await call`` within ``timeout`` seconds, else :class:`ViewUnavailable`."""
    try:
        return await asyncio.wait_for(call, timeout)
    except TimeoutError:
        raise ViewUnavailable(what, f"no answer within {timeout:g} s") from None
    except Exception as exc:
        raise ViewUnavailable(what, f"{type(exc).__name__}: {exc}") from exc
