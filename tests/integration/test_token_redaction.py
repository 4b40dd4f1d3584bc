"""The bot token never reaches the logs: a failed file download (whose aiohttp error carries
the download URL ``/file/bot<token>/...``) is logged redacted, and only that file is lost."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

import aiohttp
import pytest
from aiogram import Bot

from actors.thread.content import Readable
from devkit.emulators.telegram import TelegramEmulator
from events.messages import Attachment
from infra.logs import log_handler
from infra.threads.telegram_output import TelegramOutput

USER = 7501


@contextlib.contextmanager
def captured_logs(secrets: list[str]) -> Iterator[io.StringIO]:
    """Every record logged meanwhile, through the production handler, into a buffer."""
    stream = io.StringIO()
    handler = log_handler(stream, secrets=secrets)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _document(emulator: TelegramEmulator, data: bytes, name: str) -> Readable:
    update = emulator.send_document(USER, data, file_name=name, mime_type="text/plain")
    doc = update["message"]["document"]
    attachment = Attachment(
        kind="document",
        file_id=doc["file_id"],
        file_unique_id=doc["file_unique_id"],
        mime_type="text/plain",
        file_name=name,
        file_size=len(data),
    )
    return Readable(attachment=attachment, kind="text")


async def test_a_failed_download_is_logged_without_the_token_and_loses_only_that_file(
    telegram_emulator: TelegramEmulator, telegram_bot: Bot
) -> None:
    """Of two files, the one whose download link has expired becomes a 'could not be
    downloaded' block and the other is read; the log line and the exception of the failed
    download name the error but contain neither the token nor its secret half."""
    token = telegram_emulator.token
    telegram_emulator.add_private_chat(USER)
    good = _document(telegram_emulator, b"hello from a.txt", "a.txt")
    bad = _document(telegram_emulator, b"never read", "b.txt")
    stored = telegram_emulator.world.file(bad.attachment.file_id)
    assert stored is not None
    del telegram_emulator.world.files.by_path[stored.file_path]  # the link has expired

    output = TelegramOutput(telegram_bot)
    with captured_logs([token]) as logs:
        blocks = [await output.file_block(good), await output.file_block(bad)]
        with pytest.raises(aiohttp.ClientResponseError) as raised:
            await telegram_bot.download_file(stored.file_path)
        assert token in str(raised.value)  # what aiohttp puts in its message...
        logging.getLogger("test").exception("download failed: %s", raised.value)
    text = logs.getvalue()

    assert blocks[0] is not None
    assert "hello from a.txt" in blocks[0]["text"]
    assert blocks[1] is not None
    assert "'b.txt' could not be downloaded" in blocks[1]["text"]
    assert "file not downloaded" in text
    assert "ClientResponseError" in text
    assert "[REDACTED]" in text
    assert token not in text  # ...never reaches the log
    assert token.partition(":")[2] not in text
