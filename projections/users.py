"""The ``users`` projection: profile and settings from ``bot.users.events``, the balance from
``bot.billing.ledger`` (``balance_after`` of the newest entry, by offset)."""

from __future__ import annotations

from typing import Any

from events import billing, users
from events.messages import TelegramUser
from projections.rows import Patch, RowOp
from projections.source import Source
from projections.tables import USERS


def _profile(profile: TelegramUser) -> dict[str, Any]:
    return {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "username": profile.username,
        "language_code": profile.language_code,
        "is_premium": profile.is_premium,
        "is_bot": profile.is_bot,
    }


def _profile_patch(user_id: int, values: dict[str, Any], src: Source) -> list[RowOp]:
    return [Patch(USERS.name, "profile", (user_id,), values, src.offset)]


def registered(e: users.UserRegistered, src: Source) -> list[RowOp]:
    values = _profile(e.profile)
    values.update(
        default_model=e.default_model, registered_at=e.occurred_at, profile_updated_at=e.occurred_at
    )
    return _profile_patch(e.profile.user_id, values, src)


def profile_updated(e: users.ProfileUpdated, src: Source) -> list[RowOp]:
    values = _profile(e.profile)
    values["profile_updated_at"] = e.occurred_at
    return _profile_patch(e.profile.user_id, values, src)


def model_changed(e: users.ModelChanged, src: Source) -> list[RowOp]:
    return _profile_patch(e.user_id, {"default_model": e.model}, src)


def personality_changed(e: users.PersonalityChanged, src: Source) -> list[RowOp]:
    return _profile_patch(e.user_id, {"personality": e.personality}, src)


def thinking_changed(e: users.ThinkingChanged, src: Source) -> list[RowOp]:
    return _profile_patch(e.user_id, {"thinking": e.level}, src)


def language_changed(e: users.LanguageChanged, src: Source) -> list[RowOp]:
    return _profile_patch(e.user_id, {"language": e.language}, src)


def balance_changed(e: billing.LedgerEntry, src: Source) -> list[RowOp]:
    """Every applied entry sets the balance; rejections (amount 0) leave it alone."""
    if isinstance(e, billing.OperationRejected):
        return []
    values = {
        "balance": e.balance_after,
        "balance_updated_at": e.occurred_at,
        "last_operation_id": e.operation_id,
    }
    return [Patch(USERS.name, "balance", (e.user_id,), values, src.offset)]
