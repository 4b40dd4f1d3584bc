"""The log redaction filter: secrets never leave a record, whatever part of it holds them."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from infra.logs import REDACTED, SecretRedactor, log_handler
from infra.settings import Secret, Settings

TOKEN = "987654321:AAH-secret_half-ABCDEFGHIJ"


def _logged(emit: object) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("tests.unit.logs")
    logger.propagate = False
    handler = log_handler(stream, secrets=[TOKEN])
    logger.addHandler(handler)
    try:
        assert callable(emit)
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_token_is_redacted_from_message_args_exception_stack_and_fields() -> None:
    """The token in a format argument, an exception message (also URL-quoted), the stack and
    an extra field is replaced; the rest of the line stays readable."""

    def emit(logger: logging.Logger) -> None:
        url = f"https://api.telegram.org/file/bot{TOKEN}/documents/file_1.txt"
        try:
            raise OSError(f"404, url={url!r} quoted=bot{TOKEN.replace(':', '%3A')}")
        except OSError as exc:
            logger.warning(
                "download of %s failed",
                url,
                exc_info=True,
                stack_info=True,
                extra={"fields": {"error": exc, "half": TOKEN.partition(":")[2], "n": 3}},
            )

    text = _logged(emit)
    item = json.loads(text)
    assert TOKEN not in text
    assert TOKEN.partition(":")[2] not in text
    assert f"quoted=bot{REDACTED}" in item["exc"]
    assert (
        item["msg"]
        == f"download of https://api.telegram.org/file/bot{REDACTED}/documents/file_1.txt failed"
    )
    assert "OSError: 404" in item["exc"]
    assert item["n"] == 3
    assert item["stack"].startswith("Stack")


@given(st.text(max_size=50), st.text(max_size=50))
def test_any_text_around_the_token_loses_the_token(before: str, after: str) -> None:
    """Wherever the token sits in a message, the redacted message does not contain it."""
    redactor = SecretRedactor([TOKEN])
    assert TOKEN not in redactor.redact(before + TOKEN + after)


def test_settings_list_every_secret_for_redaction() -> None:
    """Settings.secret_values() reveals the bot token and API keys for the filter."""
    settings = Settings(
        telegram_bot_token=Secret(TOKEN), anthropic_api_key=Secret("sk-ant-xyz123456")
    )
    assert set(settings.secret_values()) == {TOKEN, "sk-ant-xyz123456"}
