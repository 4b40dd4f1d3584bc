"""aiogram's Bot API models, each built on its first use instead of all at import.

aiogram declares its Telegram types (~440 pydantic models) with ``defer_build``, then, at
the end of ``aiogram.types``, calls ``model_rebuild`` on every one of them with the namespace
that resolves their forward references. That call builds every validator and serializer at
once: ~3.4 s of CPU on a quiet machine, the largest single part of a service's start, for
the dozen types a service ever validates (the gateway's updates, the answers of the Bot
API methods the services call).

While the ``aiogram`` package itself is being imported (and only then), :func:`install`
makes that call do the part that needs aiogram's namespace, resolving the fields'
annotations, and leaves the validator to pydantic's own deferred build on the type's first
use (the one ``defer_build`` asks for). The validators are the same; only when they are
built changes. Any other ``model_rebuild`` call goes to pydantic unchanged, and if pydantic's
internals this relies on are not there (another version), aiogram is imported as before.

The Bot API methods (~170 models, ``aiogram.methods``) are not declared with ``defer_build``:
each built its validator as its class was made, ~1.4 s of CPU at import for the few methods
a service calls. Their base class, ``TelegramMethod``, gets ``defer_build`` as soon as it is
made, before any method class, so each method's validator too is built by pydantic on its
first use (a call of that method), from the same fields.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiogram import Bot

_PACKAGE = "aiogram"
_METHODS_BASE = "aiogram.methods.base"
_lock = threading.Lock()


def install() -> None:
    """Build aiogram's models on first use in this process, if aiogram is not imported yet
    (idempotent; imports nothing until aiogram is)."""
    with _lock:
        if _PACKAGE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
            return
        sys.meta_path.insert(0, _Finder())


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loaders of the ``aiogram`` package and of its
    methods' base module, once each (then leaves)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in (_PACKAGE, _METHODS_BASE):
            return None
        if fullname == _METHODS_BASE:
            with _lock:
                if self in sys.meta_path:
                    sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        if fullname == _PACKAGE:
            spec.loader = _Loader(spec.loader, _fields_only_rebuilds)
        else:
            spec.loader = _Loader(spec.loader, _methods_deferred)
        return spec


class _Loader(importlib.abc.Loader):
    """A module's own loader, executing it within ``around(module)``."""

    def __init__(
        self,
        inner: importlib.abc.Loader,
        around: Callable[[ModuleType], AbstractContextManager[None]],
    ) -> None:
        self._inner = inner
        self._around = around

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with self._around(module):
            self._inner.exec_module(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self._inner, name)


@contextmanager
def _methods_deferred(module: ModuleType) -> Iterator[None]:
    """Once ``aiogram.methods.base`` is executed: ``defer_build`` on ``TelegramMethod``'s
    config, which every method class made afterwards inherits."""
    yield
    base = getattr(module, "TelegramMethod", None)
    config = getattr(base, "model_config", None)
    if isinstance(config, dict):
        config["defer_build"] = True


@contextmanager
def _fields_only_rebuilds(module: ModuleType) -> Iterator[None]:
    patched = _patch_model_rebuild()
    try:
        yield
    finally:
        if patched is not None:
            patched()


def _patch_model_rebuild() -> Callable[[], None] | None:
    """Replace ``BaseModel.model_rebuild``; answers how to put it back (None: not replaced)."""
    try:
        from pydantic import BaseModel
        from pydantic._internal._config import ConfigWrapper
        from pydantic._internal._fields import rebuild_model_fields
        from pydantic._internal._generics import get_model_typevars_map
        from pydantic._internal._model_construction import unpack_lenient_weakvaluedict
        from pydantic._internal._namespace_utils import NsResolver
    except ImportError:
        return None
    original = BaseModel.__dict__["model_rebuild"]
    rebuild = original.__func__

    def fields_resolved(cls: Any, types_namespace: dict[str, Any]) -> bool:
        """Resolve ``cls``'s fields with aiogram's namespace; False if that failed (then
        pydantic's own rebuild runs and reports what is missing)."""
        parent = unpack_lenient_weakvaluedict(cls.__pydantic_parent_namespace__) or {}
        resolver = NsResolver(parent_namespace={**types_namespace, **parent})
        config = ConfigWrapper(cls.model_config, check=False)
        typevars = get_model_typevars_map(cls)
        try:
            cls.__pydantic_fields__, cls.__pydantic_extra_info__ = rebuild_model_fields(
                cls, config_wrapper=config, ns_resolver=resolver, typevars_map=typevars
            )
        except NameError:
            return False
        return bool(cls.__pydantic_fields_complete__)

    def model_rebuild(
        cls: Any,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        deferred = (
            _types_namespace is not None
            and not force
            and cls.__module__.startswith(f"{_PACKAGE}.")
            and cls.model_config.get("defer_build", False)
            and not cls.__pydantic_complete__
        )
        if deferred and (
            cls.__pydantic_fields_complete__ or fields_resolved(cls, _types_namespace or {})
        ):
            return True  # the validator is built by pydantic on first use
        return rebuild(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,  # this frame is one more
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign,assignment]

    def restore() -> None:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]

    return restore


def keep_response_models(bot: Bot) -> None:
    """Keep alive, for ``bot``'s process, the ``Response[T]`` model of every Bot API result
    type ``bot`` has received.

    aiogram parses each answer with ``Response[method.__returning__]``; pydantic caches its
    parametrized models only weakly, so the class was collected between calls and made again
    (a validator build, tens of ms of CPU) for the next reply: ~9 % of the gateway's CPU under
    the soak. A request middleware makes the parametrization once per result type and keeps it.
    """
    from aiogram.client.session.middlewares.base import BaseRequestMiddleware
    from aiogram.methods.base import Response

    kept: dict[Any, Any] = {}

    class KeepResponseModels(BaseRequestMiddleware):
        async def __call__(self, make_request: Any, bot: Bot, method: Any) -> Any:
            returning = method.__returning__
            try:
                if returning not in kept:
                    kept[returning] = Response[returning]  # type: ignore[valid-type]
            except TypeError:  # an unhashable result type: aiogram makes it per call as before
                pass
            return await make_request(bot, method)

    bot.session.middleware(KeepResponseModels())
