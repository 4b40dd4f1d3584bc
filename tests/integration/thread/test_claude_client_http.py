"""The Claude client without the SDK: the headers it builds are the SDK's, and the API's raw
error answers become the same failure kinds, streamed and not (against the Claude emulator)."""

from __future__ import annotations

import socket
import subprocess
import sys

import anthropic
import pytest
from anthropic import AsyncAnthropic

from actors.thread.errors import FailureKind
from actors.thread.provider import ModelCallError, StreamProgress
from devkit.emulators.claude import (
    ClaudeEmulator,
    HttpError,
    Overloaded,
    PromptTooLong,
    RateLimited,
    StreamBreak,
    Usage,
    text_reply,
)
from devkit.emulators.claude.scripts import Failure
from devkit.emulators.testing import make_anthropic
from infra.files.claude_files import ClaudeFiles
from infra.threads.claude_api import API_VERSION, SDK_VERSION, ClaudeApi
from infra.threads.claude_client import ClaudeClient

MODEL = "claude-sonnet-4-6"
KEY = "emulator-key"
PER_REQUEST = {"accept", "content-length", "host", "accept-encoding", "connection"}
"""Headers each HTTP library sets itself, or the SDK per request (``x-stainless-*`` below)."""


def _request(text: str = "hello") -> dict[str, object]:
    return {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": text}]}


def _http(status: int, error_type: str) -> HttpError:
    return HttpError(status=status, error_type=error_type, message=f"{error_type} here")


async def _call(client: ClaudeClient, call: str) -> None:
    if call == "stream":
        await client.stream(_request(), StreamProgress())
    else:
        await client.complete(_request())


def _sdk_defaults(headers: dict[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in headers.items()
        if k not in PER_REQUEST
        and k not in ("x-stainless-retry-count", "x-stainless-read-timeout", "x-stainless-timeout")
    }


async def test_hand_built_headers_are_the_sdks(
    claude_emulator: ClaudeEmulator, anthropic_client: AsyncAnthropic
) -> None:
    """The key, API version, user agent, JSON and platform headers we build are the ones the
    installed SDK sends (its version and API version pinned in infra.threads.claude_api)."""
    assert anthropic.__version__ == SDK_VERSION
    assert anthropic._constants.ANTHROPIC_API_VERSION == API_VERSION
    sdk = ClaudeApi.of_sdk_client(anthropic_client)
    assert ClaudeApi.with_key(claude_emulator.base_url, KEY).headers == sdk.headers

    await anthropic_client.messages.create(**_request())  # type: ignore[call-overload]
    sent_by_sdk = _sdk_defaults(claude_emulator.last_message_request().headers)
    client = ClaudeClient(ClaudeApi.with_key(claude_emulator.base_url, KEY))
    try:
        await client.stream(_request(), StreamProgress())
        streamed = claude_emulator.last_message_request().headers
        await client.complete(_request())
        created = claude_emulator.last_message_request().headers
    finally:
        await client.close()
    assert sent_by_sdk["authorization"] == f"Bearer {KEY}"
    assert sent_by_sdk["anthropic-version"] == API_VERSION
    assert _sdk_defaults(streamed) == sent_by_sdk
    assert _sdk_defaults(created) == sent_by_sdk
    assert (streamed["accept"], created["accept"]) == ("text/event-stream", "application/json")


async def test_a_short_call_gives_the_sdks_text_and_usage(
    claude_emulator: ClaudeEmulator, anthropic_client: AsyncAnthropic
) -> None:
    """complete() (topic titles) answers the text and usage the SDK's message carries."""
    usage = Usage(input_tokens=12, output_tokens=3, cache_read_input_tokens=5)
    claude_emulator.script(text_reply("A title", usage=usage), text_reply("A title", usage=usage))
    message = await anthropic_client.messages.create(**_request())  # type: ignore[call-overload]
    client = ClaudeClient(ClaudeApi.with_key(claude_emulator.base_url, KEY))
    try:
        text, got = await client.complete(_request())
    finally:
        await client.close()
    assert text == "".join(b.text for b in message.content if b.type == "text") == "A title"
    assert (got.input_tokens, got.output_tokens, got.cache_read_input_tokens) == (12, 3, 5)
    assert got.input_tokens == message.usage.input_tokens


@pytest.mark.parametrize(
    ("failure", "kind", "status", "retry_after"),
    [
        (RateLimited(retry_after=7), "rate_limited", 429, 7.0),
        (Overloaded(), "overloaded", 529, None),
        (_http(500, "overloaded_error"), "overloaded", 500, None),
        (PromptTooLong(), "prompt_too_long", 400, None),
        (_http(400, "invalid_request_error"), "invalid_request", 400, None),
        (_http(401, "authentication_error"), "auth", 401, None),
        (_http(403, "permission_error"), "auth", 403, None),
        (_http(413, "request_too_large"), "invalid_request", 413, None),
        (_http(500, "api_error"), "api_error", 500, None),
    ],
)  # fmt: skip
@pytest.mark.parametrize("call", ["stream", "complete"])
async def test_error_answers_become_the_same_failure_kinds(
    claude_emulator: ClaudeEmulator,
    call: str,
    failure: Failure,
    kind: FailureKind,
    status: int,
    retry_after: float | None,
) -> None:
    """An HTTP error answer of the API, streamed call or not, is the failure kind the SDK's
    exception for it was translated to: status, retry-after and message kept."""
    claude_emulator.fail_next(failure)
    client = ClaudeClient(ClaudeApi.with_key(claude_emulator.base_url, KEY))
    try:
        with pytest.raises(ModelCallError) as raised:
            await _call(client, call)
    finally:
        await client.close()
    got = raised.value.failure
    assert (got.kind, got.status, got.retry_after, got.streamed) == (
        kind,
        status,
        retry_after,
        False,
    )
    assert got.detail


async def test_a_missing_key_is_an_auth_failure(claude_emulator: ClaudeEmulator) -> None:
    """The API refusing the request for its key (401) is an auth failure."""
    client = ClaudeClient(ClaudeApi.with_key(claude_emulator.base_url, ""))
    try:
        with pytest.raises(ModelCallError) as raised:
            await client.stream(_request(), StreamProgress())
    finally:
        await client.close()
    assert (raised.value.failure.kind, raised.value.failure.status) == ("auth", 401)


@pytest.mark.parametrize("mode", ["error_event", "disconnect"])
async def test_a_stream_failing_midway_is_broken(
    claude_emulator: ClaudeEmulator, mode: str
) -> None:
    """An error event or a dropped connection after the stream started is stream_broken,
    marked streamed (the progress so far kept)."""
    claude_emulator.fail_next(StreamBreak(after_events=3, mode=mode))  # type: ignore[arg-type]
    client = ClaudeClient(ClaudeApi.with_key(claude_emulator.base_url, KEY))
    progress = StreamProgress()
    try:
        with pytest.raises(ModelCallError) as raised:
            await client.stream(_request("a longer question for some text"), progress)
    finally:
        await client.close()
    assert (raised.value.failure.kind, raised.value.failure.streamed) == ("stream_broken", True)
    assert progress.started


@pytest.mark.parametrize("call", ["stream", "complete"])
async def test_an_unreachable_api_is_an_api_error(call: str) -> None:
    """No server at the base URL: api_error, not streamed, for either kind of call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = ClaudeClient(ClaudeApi.with_key(f"http://127.0.0.1:{port}", KEY))
    try:
        with pytest.raises(ModelCallError) as raised:
            await _call(client, call)
    finally:
        await client.close()
    assert (raised.value.failure.kind, raised.value.failure.streamed) == ("api_error", False)


async def test_files_api_client_made_on_the_first_upload(claude_emulator: ClaudeEmulator) -> None:
    """ClaudeFiles given a maker builds the SDK client on its first upload only, then
    uploads through it."""
    made: list[AsyncAnthropic] = []

    def make() -> AsyncAnthropic:
        made.append(make_anthropic(claude_emulator))
        return made[-1]

    files = ClaudeFiles(make)
    assert made == []
    first = await files.upload("a.txt", b"one", "text/plain")
    second = await files.upload("b.txt", b"two", "text/plain")
    assert len(made) == 1
    assert first.file_id != second.file_id
    assert claude_emulator.files.live(first.file_id) is not None
    await made[0].close()


def test_the_thread_worker_and_gateway_load_no_claude_sdk() -> None:
    """Importing the thread worker and the gateway, and building the worker's Claude client
    from the settings, loads neither the anthropic SDK (seconds of a start's CPU) nor pypdf
    (both are imported on first use)."""
    code = (
        "import asyncio, sys\n"
        "import infra.threads.worker, infra.gateway.app\n"
        "from infra.bootstrap import Root\n"
        "from infra.endpoints import Endpoints\n"
        "from infra.kafka.compat import BrokerProfile\n"
        "from infra.settings import Secret, Settings\n"
        "from infra.threads.claude_client import ClaudeClient\n"
        "async def main():\n"
        "    settings = Settings(anthropic_api_key=Secret('k'))\n"
        "    ends = Endpoints('127.0.0.1:9', 'postgresql://u@127.0.0.1:9/d', 'redis://127.0.0.1:9',"
        " False)\n"
        "    root = Root(settings, ends, profile=BrokerProfile('c', tansu_workarounds=False))\n"
        "    await ClaudeClient(root.claude_api()).close()\n"
        "    await root.close()\n"
        "asyncio.run(main())\n"
        "print([m for m in ('anthropic', 'pypdf') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
