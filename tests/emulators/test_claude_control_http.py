"""The Claude emulator's HTTP control API: scripts as JSON, recorded requests, files, reset."""

from __future__ import annotations

import base64

import aiohttp
import anthropic
import pytest
from anthropic import AsyncAnthropic

from devkit.emulators.claude import ClaudeEmulator


async def test_scripts_and_requests_over_http(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Replies posted as JSON are served in order; requests can be read back as JSON."""
    replies = [
        {
            "content": [{"type": "text", "text": "from control"}],
            "usage": {"cache_read_input_tokens": 7},
        },
        {"failure": {"kind": "overloaded"}},
        {"content": [{"type": "tool_use", "name": "list_files", "input": {}}]},
    ]
    async with aiohttp.ClientSession(base_url=claude_emulator.base_url) as http:
        async with http.post("/_control/replies", json={"replies": replies}) as resp:
            assert (await resp.json())["pending"] == 3
        first = await anthropic_client.messages.create(
            model="m", max_tokens=20, messages=[{"role": "user", "content": "a"}]
        )
        assert first.content[0].type == "text"
        assert first.content[0].text == "from control"
        assert first.usage.cache_read_input_tokens == 7
        with pytest.raises(anthropic.OverloadedError):
            await anthropic_client.messages.create(
                model="m", max_tokens=20, messages=[{"role": "user", "content": "b"}]
            )
        third = await anthropic_client.messages.create(
            model="m", max_tokens=20, messages=[{"role": "user", "content": "c"}]
        )
        assert third.stop_reason == "tool_use"
        async with http.get("/_control/requests", params={"path": "/v1/messages"}) as resp:
            bodies = [r["body"] for r in (await resp.json())["requests"]]
        assert [b["messages"][0]["content"] for b in bodies] == ["a", "b", "c"]
        async with http.post(
            "/_control/replies", json={"replies": [{"content": [{"type": "bogus"}]}]}
        ) as resp:
            assert resp.status == 400
        data = base64.b64encode(b"result").decode()
        async with http.post(
            "/_control/files", json={"data_b64": data, "filename": "r.txt"}
        ) as resp:
            file_id = (await resp.json())["file"]["id"]
        assert await (await anthropic_client.files.download(file_id)).read() == b"result"
        async with http.post(f"/_control/files/{file_id}/expire") as resp:
            assert resp.status == 200
        async with http.post("/_control/reset") as resp:
            assert resp.status == 200
    assert claude_emulator.requests == []
