"""Superseded record shapes, kept to document the wire and to test their upcasters.

Records of these versions may sit in the log forever; the codec upcasts them on read
(:mod:`events.upcasting`). They are in no topic union and are never produced.
"""

from __future__ import annotations

from typing import Literal

from events.envelope import Envelope
from events.ids import Id
from events.usage import ModelId, Usage


class TurnFailedV1(Envelope, tag="thread.turn_failed", frozen=True, kw_only=True):
    """``thread.turn_failed`` v1: the error as free text (``"<api error type>: <message>"``)."""

    v: Literal[1] = 1
    turn_id: Id
    user_id: int
    error: str
    model: ModelId | None = None
    step: int = 0
    partial_usage: Usage = Usage()
    billing_operation_id: str | None = None


LEGACY_TYPES: tuple[type[Envelope], ...] = (TurnFailedV1,)
