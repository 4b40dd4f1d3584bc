"""Admin commands for privileged user ids: ``/topup`` and ``/set_margin``.

Each admin action becomes a record naming the admin: ``billing.admin_top_up_requested``
(-> ``ledger.admin_topped_up``) or ``admin.margin_changed``. Anyone else is refused.
"""

from __future__ import annotations

from decimal import Decimal

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from actors import typed_numbers
from actors.billing import policy, replies
from actors.gateway.ids import telegram_record_id
from events.admin import MarginChanged
from events.catalog import ADMIN_EVENTS, BILLING_COMMANDS
from events.envelope import new_envelope
from events.keys import GLOBAL_KEY
from infra.billing import commands
from infra.billing.views import MarginView, UsernameDirectory
from infra.gateway.context import GatewayContext
from infra.gateway.reads import read_view

PRODUCER = "gateway"


class _Reads:
    """Margin view and username directory, connected on first use."""

    def __init__(
        self, ctx: GatewayContext, margins: MarginView | None, directory: UsernameDirectory | None
    ) -> None:
        self._ctx = ctx
        self._margins = margins
        self._directory = directory

    async def margin(self) -> Decimal:
        return await read_view(
            self._margin(), what="the current margin", timeout=self._ctx.view_timeout
        )

    async def user_id(self, username: str) -> int | None:
        return await read_view(
            self._user_id(username), what="the user directory", timeout=self._ctx.view_timeout
        )

    async def _margin(self) -> Decimal:
        if self._margins is None:
            self._margins = await MarginView.connect(
                self._ctx.settings,
                topic_prefix=self._ctx.publisher.topic_prefix,
                broker=self._ctx.broker,
            )
        return await self._margins.current()

    async def _user_id(self, username: str) -> int | None:
        if self._directory is None:
            self._directory = await UsernameDirectory.connect(
                self._ctx.settings,
                topic_prefix=self._ctx.publisher.topic_prefix,
                broker=self._ctx.broker,
            )
        return await self._directory.user_id(username)

    async def close(self) -> None:
        for view in (self._margins, self._directory):
            if view is not None:
                await view.close()


def build_router(
    ctx: GatewayContext,
    *,
    margins: MarginView | None = None,
    directory: UsernameDirectory | None = None,
) -> Router:
    router = Router(name="admin")
    reads = _Reads(ctx, margins, directory)
    router.shutdown.register(reads.close)

    async def refuse_unless_admin(message: Message) -> int | None:
        user = message.from_user
        if user is None or not ctx.is_privileged(user.id):
            await message.answer(replies.NOT_ADMIN, parse_mode=None)
            return None
        return user.id

    @router.message(Command("topup"))
    async def topup(message: Message, command: CommandObject) -> None:
        admin = await refuse_unless_admin(message)
        if admin is None:
            return
        parts = (command.args or "").split(maxsplit=2)
        if len(parts) < 2:
            await message.answer(replies.TOPUP_USAGE, parse_mode=None)
            return
        target, raw_amount = parts[0], parts[1]
        reason = parts[2] if len(parts) > 2 else ""
        try:
            if target.startswith("@"):
                found = await reads.user_id(typed_numbers.parse_username(target))
            else:
                found = typed_numbers.parse_user_id(target)
        except typed_numbers.NumberRefused as exc:
            await message.answer(f"Refused: {exc}.\n{replies.TOPUP_USAGE}", parse_mode=None)
            return
        if found is None:
            await message.answer(f"No user {target} is known.", parse_mode=None)
            return
        user_id = found
        try:
            amount = policy.parse_admin_amount(raw_amount)
        except ValueError as exc:
            await message.answer(f"Refused: {exc}.\n{replies.TOPUP_USAGE}", parse_mode=None)
            return
        problem = policy.admin_amount_problem(amount)
        if problem:
            await message.answer(f"Refused: {problem}.", parse_mode=None)
            return
        request_id = telegram_record_id("topup", message.chat.id, message.message_id, message.date)
        cmd = commands.admin_top_up(
            user_id,
            amount,
            admin,
            reason=reason,
            request_id=request_id,
            occurred_at=message.date,
        )
        await ctx.publisher.publish(BILLING_COMMANDS, cmd)
        await message.answer(
            replies.top_up_requested(user_id, amount, cmd.operation_id), parse_mode=None
        )

    @router.message(Command("set_margin"))
    async def set_margin(message: Message, command: CommandObject) -> None:
        admin = await refuse_unless_admin(message)
        if admin is None:
            return
        if not command.args:
            current = await reads.margin()
            await message.answer(
                f"Current owner margin k3 = {current}.\n{replies.SET_MARGIN_USAGE}",
                parse_mode=None,
            )
            return
        try:
            margin = policy.parse_margin(command.args)
        except ValueError as exc:
            await message.answer(f"Refused: {exc}.", parse_mode=None)
            return
        previous = await reads.margin()
        record_id = telegram_record_id(
            "set_margin", message.chat.id, message.message_id, message.date
        )
        await ctx.publisher.publish(
            ADMIN_EVENTS,
            MarginChanged(
                **new_envelope(
                    key=GLOBAL_KEY, producer=PRODUCER, id=record_id, occurred_at=message.date
                ),
                owner_margin=margin,
                previous_owner_margin=previous,
                admin_user_id=admin,
            ),
        )
        await message.answer(replies.margin_set(margin), parse_mode=None)

    return router
