"""Which failures of a write mean "the broker is unavailable for now" (stopped, restarting,
electing leaders): the same write, tried again once it is back, succeeds."""

from __future__ import annotations

from aiokafka.errors import KafkaError, KafkaTimeoutError


def transient(exc: BaseException) -> bool:
    """The broker cannot take the write now; trying it again later is right."""
    if isinstance(exc, KafkaError):
        return exc.retriable or isinstance(exc, KafkaTimeoutError)
    return isinstance(exc, ConnectionError | TimeoutError)
