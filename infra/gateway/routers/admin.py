"""Admin commands for privileged user ids: ``/topup``, ``/set_margin`` and
``/set_cache_subsidy``.

Each admin action becomes a record naming the admin: ``billing.admin_top_up_requested``
(-> ``ledger.admin_topped_up``), ``admin.margin_changed`` or ``admin.cache_subsidy_changed``
(which the billing worker's pricing honours, :mod:`actors.billing.subsidy`). Anyone else is
refused.
"""

from __future__ import annotations

from decimal import Decimal

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message

from actors import typed_numbers
from actors.billing import commands, policy, replies
from actors.billing.subsidy import parse_switch
from actors.gateway.commands import PRODUCER
from actors.gateway.ids import telegram_record_id
from actors.texts import Language
from actors.texts.refusal import Refusal
from events.admin import CacheSubsidyChanged, MarginChanged
from events.billing import AdminTopUpRequested
from events.catalog import ADMIN_EVENTS, BILLING_COMMANDS
from events.envelope import new_envelope
from events.keys import GLOBAL_KEY
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.reads import ViewUnavailable
from infra.gateway.services import BillingReads, GatewayServices


class Refused(Exception):
    """An admin command that cannot be carried out; ``str()`` is the answer."""


async def _target(reads: BillingReads, lang: Language, target: str) -> int:
    """The user id a ``/topup`` names (a number or a known @username)."""
    try:
        if target.startswith("@"):
            found = await reads.user_id(typed_numbers.parse_username(target))
        else:
            found = typed_numbers.parse_user_id(target)
    except typed_numbers.NumberRefused as exc:
        usage = replies.topup_usage(lang)
        raise Refused(f"{replies.refused(lang, exc.text(lang))}\n{usage}") from exc
    if found is None:
        raise Refused(replies.unknown_user(lang, target))
    return found


def _amount(lang: Language, raw: str) -> Decimal:
    try:
        amount = policy.parse_admin_amount(raw)
    except Refusal as exc:
        usage = replies.topup_usage(lang)
        raise Refused(f"{replies.refused(lang, exc.text(lang))}\n{usage}") from exc
    refusal = policy.admin_amount_refusal(amount)
    if refusal is not None:
        raise Refused(replies.refused(lang, refusal.text(lang)))
    return amount


async def top_up_request(
    reads: BillingReads, lang: Language, message: Message, admin: int, args: str | None
) -> AdminTopUpRequested:
    """The billing command a ``/topup <user> <amount> [reason]`` asks for."""
    parts = (args or "").split(maxsplit=2)
    if len(parts) < 2:
        raise Refused(replies.topup_usage(lang))
    user_id = await _target(reads, lang, parts[0])
    amount = _amount(lang, parts[1])
    return commands.admin_top_up(
        user_id,
        amount,
        admin,
        reason=parts[2] if len(parts) > 2 else "",
        request_id=telegram_record_id("topup", message.chat.id, message.message_id, message.date),
        producer=PRODUCER,
        occurred_at=message.date,
    )


async def margin_change(
    reads: BillingReads, lang: Language, message: Message, admin: int, args: str
) -> MarginChanged:
    """The record a ``/set_margin <k3>`` asks for."""
    try:
        margin = policy.parse_margin(args)
    except Refusal as exc:
        raise Refused(replies.refused(lang, exc.text(lang))) from exc
    previous = await reads.margin("view.margin")
    record_id = telegram_record_id("set_margin", message.chat.id, message.message_id, message.date)
    return MarginChanged(
        **new_envelope(key=GLOBAL_KEY, producer=PRODUCER, id=record_id, occurred_at=message.date),
        owner_margin=margin,
        previous_owner_margin=previous,
        admin_user_id=admin,
    )


def subsidy_change(
    message: Message, admin: int, on: bool, previous: bool | None
) -> CacheSubsidyChanged:
    """The record a ``/set_cache_subsidy on|off`` asks for."""
    record_id = telegram_record_id(
        "set_cache_subsidy", message.chat.id, message.message_id, message.date
    )
    return CacheSubsidyChanged(
        **new_envelope(key=GLOBAL_KEY, producer=PRODUCER, id=record_id, occurred_at=message.date),
        subsidized=on,
        previous_subsidized=previous,
        admin_user_id=admin,
    )


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="admin")
    reads = services.billing

    def answer(message: Message, text: str) -> None:
        services.replies.send(message.answer(text, parse_mode=None), what="admin")

    async def admin_of(message: Message) -> tuple[int, Language] | None:
        """The administrator and their language; anyone else is refused."""
        user = message.from_user
        lang = await services.language_of(user, timeout=ctx.view_timeout)
        if user is None or not ctx.is_privileged(user.id):
            answer(message, replies.not_admin(lang))
            return None
        return user.id, lang

    @router.message(bot_command("topup"))
    async def topup(message: Message, command: CommandObject) -> None:
        if (found := await admin_of(message)) is None:
            return
        admin, lang = found
        try:
            request = await top_up_request(reads, lang, message, admin, command.args)
        except Refused as refused:
            answer(message, str(refused))
            return
        await ctx.publisher.publish(BILLING_COMMANDS, request)
        text = replies.top_up_requested(lang, request.user_id, request.amount, request.operation_id)
        answer(message, text)

    @router.message(bot_command("set_margin"))
    async def set_margin(message: Message, command: CommandObject) -> None:
        if (found := await admin_of(message)) is None:
            return
        admin, lang = found
        if not command.args:
            current = await reads.margin("view.margin")
            usage = replies.set_margin_usage(lang)
            answer(message, f"{replies.current_margin(lang, current)}\n{usage}")
            return
        try:
            change = await margin_change(reads, lang, message, admin, command.args)
        except Refused as refused:
            answer(message, str(refused))
            return
        await ctx.publisher.publish(ADMIN_EVENTS, change)
        answer(message, replies.margin_set(lang, change.owner_margin))

    @router.message(bot_command("set_cache_subsidy"))
    async def set_cache_subsidy(message: Message, command: CommandObject) -> None:
        if (found := await admin_of(message)) is None:
            return
        admin, lang = found
        if not command.args:
            answer(message, replies.cache_subsidy_shown(lang, await reads.cache_subsidy()))
            return
        on = parse_switch(command.args)
        if on is None:
            answer(message, replies.set_cache_subsidy_usage(lang))
            return
        try:  # the previous setting is informative: an unreadable view blocks no change
            previous: bool | None = await reads.cache_subsidy()
        except ViewUnavailable:
            previous = None
        await ctx.publisher.publish(ADMIN_EVENTS, subsidy_change(message, admin, on, previous))
        answer(message, replies.cache_subsidy_set(lang, on))

    return router
