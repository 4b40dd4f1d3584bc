"""Webhook delivery: POST each pending update to the bot's URL, in order, retrying on failure.

A 2xx answer acknowledges the update; its body may carry one Bot API call (JSON or the
multipart form aiogram writes), which is executed as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from .api import deliverable
from .params import Params, Upload
from .state import BotState, now_ts

CallApi = Callable[[str, str, Params], Awaitable[Any]]


class WebhookDelivery:
    def __init__(self, call_api: CallApi, retry_delay: float, timeout: float) -> None:
        self._call_api = call_api
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def changed(self, bot: BotState) -> None:
        """Start delivering for a bot that has a webhook; its task stops by itself otherwise."""
        task = self._tasks.get(bot.token)
        if bot.webhook is not None and (task is None or task.done()):
            self._tasks[bot.token] = asyncio.get_running_loop().create_task(self._run(bot))
        bot.notifier.notify()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def _run(self, bot: BotState) -> None:
        while bot.webhook is not None:
            hook = bot.webhook
            batch = deliverable(bot, 1)
            if not batch:
                await bot.notifier.wait(5.0)
                continue
            update = batch[0]
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            error: str
            try:
                async with self._client().post(
                    hook.url, data=json.dumps(update), headers=headers
                ) as resp:
                    if 200 <= resp.status < 300:
                        call = await _read_call(resp)
                        if bot.updates and bot.updates[0] is update:
                            bot.updates.popleft()
                        hook.deliveries += 1
                        if call is not None:
                            name, params = call
                            with contextlib.suppress(Exception):
                                await self._call_api(bot.token, name, params)
                        continue
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as e:
                error = f"Connection error: {type(e).__name__}"
            hook.last_error_date = now_ts()
            hook.last_error_message = error
            await asyncio.sleep(self.retry_delay)


async def _read_call(resp: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    ctype = resp.headers.get("Content-Type", "")
    if ctype.startswith("application/json"):
        try:
            body = await resp.json()
        except (ValueError, aiohttp.ContentTypeError):
            return None
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            values = {k: v for k, v in body.items() if k != "method"}
            return body["method"], Params(values=values)
        return None
    if ctype.startswith("multipart/"):
        reader = aiohttp.MultipartReader(resp.headers, resp.content)
        params = Params()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            data = await part.read()
            if part.filename:
                params.uploads[part.name] = Upload(
                    part.filename, bytes(data), part.headers.get("Content-Type")
                )
            else:
                params.values[part.name] = bytes(data).decode()
        method = params.values.pop("method", None)
        if isinstance(method, str):
            return method, params
    return None
