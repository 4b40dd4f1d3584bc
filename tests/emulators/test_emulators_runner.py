"""Starting both emulators together: serve_emulators in-process and `python -m devkit.emulators`."""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from devkit.emulators import RunningEmulators, serve_emulators


async def test_serve_emulators_until_stopped() -> None:
    """serve_emulators reports both URLs when ready and shuts down when `stop` is set."""
    ready: list[RunningEmulators] = []
    started = asyncio.Event()
    stop = asyncio.Event()

    def on_ready(running: RunningEmulators) -> None:
        ready.append(running)
        started.set()

    task = asyncio.create_task(serve_emulators(on_ready=on_ready, stop=stop, flood=False))
    await asyncio.wait_for(started.wait(), 5)
    env = ready[0].env
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{env['TELEGRAM_API_URL']}/bot{env['TELEGRAM_BOT_TOKEN']}/getMe"
        ) as resp:
            assert (await resp.json())["ok"] is True
        async with http.get(
            f"{env['ANTHROPIC_BASE_URL']}/v1/models", headers={"x-api-key": "k"}
        ) as resp:
            assert resp.status == 200
        form = aiohttp.FormData()
        form.add_field("model", "whisper-1")
        form.add_field("file", b"", filename="a.wav")
        async with http.post(
            f"{env['OPENAI_BASE_URL']}/audio/transcriptions",
            data=form,
            headers={"authorization": f"Bearer {env['OPENAI_API_KEY']}"},
        ) as resp:
            assert "text" in await resp.json()
        async with http.post(
            f"{env['GOOGLE_GEMINI_BASE_URL']}/v1beta/models/gemini-2.5-flash:generateContent",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
            headers={"x-goog-api-key": env["GOOGLE_API_KEY"]},
        ) as resp:
            assert "candidates" in await resp.json()
        async with http.post(
            f"{env['E2B_API_URL']}/v2/sandboxes",
            json={"templateID": "code-interpreter-v1"},
            headers={"x-api-key": env["E2B_API_KEY"]},
        ) as resp:
            assert resp.status == 201
    assert ready[0].telegram.world.flood.config.enabled is False
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_module_main_prints_urls() -> None:
    """`python -m devkit.emulators` prints KEY=URL lines a shell or the bot can use."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devkit.emulators",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines = [
        (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip() for _ in range(4)
    ]
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    keys = dict(line.split("=", 1) for line in lines)
    assert keys["TELEGRAM_API_URL"].startswith("http://127.0.0.1:")
    assert keys["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:")
