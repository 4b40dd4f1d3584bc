"""The gateway's routers, one per feature, joined in the order they must see updates.

The error router, the commands (``build_router(ctx, services)``), then the payments, billing
and admin routers (``build_router(ctx)``; payments and admin also take their views as
optional keywords, built from ``ctx`` when left out), then the conversation router
(``build_router(ctx, services)``), which takes every message nobody else handled.
"""

from __future__ import annotations

import importlib
import importlib.util

from aiogram import Router

from infra.gateway.context import GatewayContext
from infra.gateway.errors import build_error_router
from infra.gateway.routers import commands, conversation
from infra.gateway.services import GatewayServices

FEATURE_MODULES = ("payments", "billing", "admin")
"""Routers taking only the context (owned by billing), in inclusion order."""


def feature_routers(ctx: GatewayContext) -> list[Router]:
    routers = []
    for name in FEATURE_MODULES:
        module_name = f"{__name__}.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        routers.append(module.build_router(ctx))
    return routers


def build_routers(ctx: GatewayContext, services: GatewayServices | None = None) -> list[Router]:
    """Every router of the gateway; ``services`` default to ones built from ``ctx``."""
    services = services or GatewayServices.create(ctx)
    return [
        build_error_router(ctx, services),
        commands.build_router(ctx, services),
        *feature_routers(ctx),
        conversation.build_router(ctx, services),
    ]
