"""The gateway's routers, one module per feature, each built the same way:
``build_router(ctx: GatewayContext, services: GatewayServices) -> Router``.

:data:`ROUTER_BUILDERS` joins them in the order they must see updates: the error router, the
commands (every one named in :mod:`actors.gateway.command_registry`), payments, then the
conversation router, which takes every message nobody else handled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias

from aiogram import Router

from infra.gateway.context import GatewayContext
from infra.gateway.errors import build_error_router
from infra.gateway.routers import (
    admin,
    announce,
    billing,
    commands,
    conversation,
    payments,
    thread_control,
    topics,
    welcome,
)
from infra.gateway.services import GatewayServices

RouterBuilder: TypeAlias = Callable[[GatewayContext, GatewayServices], Router]

ROUTER_BUILDERS: Final[tuple[RouterBuilder, ...]] = (
    build_error_router,
    welcome.build_router,
    thread_control.build_router,
    topics.build_router,
    commands.build_router,
    payments.build_router,
    billing.build_router,
    admin.build_router,
    announce.build_router,
    conversation.build_router,
)


def build_routers(ctx: GatewayContext, services: GatewayServices) -> list[Router]:
    """Every router of the gateway, in inclusion order."""
    return [build(ctx, services) for build in ROUTER_BUILDERS]
