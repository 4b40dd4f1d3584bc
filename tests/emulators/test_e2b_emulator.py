"""The E2B emulator driven by the real e2b-code-interpreter SDK: create, run_code (really run
in a local subprocess), files write and read, kill, billable seconds, failures."""

from __future__ import annotations

import pytest
from e2b import CommandExitException, SandboxException
from e2b_code_interpreter import AsyncSandbox

from devkit.emulators.e2b_sandbox import E2BEmulator, sdk_options


async def test_create_run_code_files_and_kill(e2b_emulator: E2BEmulator) -> None:
    """A sandbox runs code that reads an uploaded file and writes one the test reads back."""
    sandbox = await AsyncSandbox.create(envs={"GREETING": "hej"}, **sdk_options(e2b_emulator))
    info = await sandbox.files.write("data/in.csv", "a,b\n1,2\n")
    assert info.path == "/home/user/data/in.csv"
    execution = await sandbox.run_code(
        "import os\n"
        "rows = open('data/in.csv').read().splitlines()\n"
        "print(os.environ['GREETING'], len(rows))\n"
        "open('out.txt', 'w').write('done')\n"
        "len(rows) * 10"
    )
    assert execution.error is None
    assert execution.logs.stdout == ["hej 2\n"]
    assert execution.text == "20"
    assert await sandbox.files.read("/home/user/out.txt") == "done"
    await sandbox.kill()
    emulated = e2b_emulator.sandboxes[sandbox.sandbox_id]
    assert emulated.ended_at is not None
    assert e2b_emulator.billable_seconds(sandbox.sandbox_id) >= 1
    assert not emulated.root.exists()


async def test_code_error_is_execution_error(e2b_emulator: E2BEmulator) -> None:
    """An uncaught exception comes back as the execution's error with its traceback."""
    sandbox = await AsyncSandbox.create(**sdk_options(e2b_emulator))
    execution = await sandbox.run_code("print('before')\n1 / 0")
    assert execution.logs.stdout == ["before\n"]
    assert execution.error is not None
    assert execution.error.name == "ZeroDivisionError"
    assert "division by zero" in execution.error.value
    assert "Traceback" in execution.error.traceback
    await sandbox.kill()


async def test_execution_limit_kills_the_cell(e2b_emulator: E2BEmulator) -> None:
    """A cell over the sandbox's execution limit is stopped and reported as a TimeoutError."""
    e2b_emulator.execution_limit = 0.5
    sandbox = await AsyncSandbox.create(**sdk_options(e2b_emulator))
    execution = await sandbox.run_code("import time\ntime.sleep(30)")
    assert execution.error is not None
    assert execution.error.name == "TimeoutError"
    await sandbox.kill()


async def test_create_failures(e2b_emulator: E2BEmulator) -> None:
    """The SDK retries a 429 on create by itself; a 500 raises with E2B's message."""
    e2b_emulator.fail_next_create(429, "rate limit exceeded")
    sandbox = await AsyncSandbox.create(**sdk_options(e2b_emulator))
    assert len(e2b_emulator.calls_to("/sandboxes")) == 2
    await sandbox.kill()
    e2b_emulator.fail_next_create(500, "internal error")
    with pytest.raises(SandboxException, match="internal error"):
        await AsyncSandbox.create(**sdk_options(e2b_emulator))
    assert e2b_emulator.running() == []


async def test_wrong_api_key_is_refused() -> None:
    """With api_keys set, another key is refused with 401."""
    async with E2BEmulator(api_keys={"good"}) as emulator:
        with pytest.raises(Exception, match="Invalid API key"):
            await AsyncSandbox.create(**sdk_options(emulator, api_key="bad"))


async def test_missing_file_is_not_found(e2b_emulator: E2BEmulator) -> None:
    """Reading a file that does not exist raises the SDK's not-found error."""
    sandbox = await AsyncSandbox.create(**sdk_options(e2b_emulator))
    with pytest.raises(Exception, match="does not exist"):
        await sandbox.files.read("nope.txt")
    await sandbox.kill()


async def test_list_and_remove_generated_files(e2b_emulator: E2BEmulator) -> None:
    """Files the code writes are listed (with sizes) through files.list and removable."""
    sandbox = await AsyncSandbox.create(**sdk_options(e2b_emulator))
    await sandbox.run_code("import os\nos.mkdir('out')\nopen('out/chart.png','wb').write(b'x'*7)")
    entries = await sandbox.files.list("/home/user/out")
    assert [(e.name, e.path, e.size) for e in entries] == [
        ("chart.png", "/home/user/out/chart.png", 7)
    ]
    assert [e.name for e in await sandbox.files.list("/home/user")] == ["out"]
    await sandbox.files.remove("/home/user/out/chart.png")
    assert await sandbox.files.list("/home/user/out") == []
    await sandbox.kill()


async def test_commands_run_streams_output_and_exit_code(e2b_emulator: E2BEmulator) -> None:
    """commands.run runs in the sandbox home and reports stdout, stderr and the exit code."""
    sandbox = await AsyncSandbox.create(**sdk_options(e2b_emulator))
    await sandbox.files.write("note.txt", "hello")
    result = await sandbox.commands.run("cat note.txt; echo warn >&2", envs={"X": "1"})
    assert (result.stdout, result.stderr, result.exit_code) == ("hello", "warn\n", 0)
    with pytest.raises(CommandExitException) as caught:
        await sandbox.commands.run("exit 3")
    assert caught.value.exit_code == 3
    assert e2b_emulator.sandboxes[sandbox.sandbox_id].commands == [
        "cat note.txt; echo warn >&2",
        "exit 3",
    ]
    await sandbox.kill()


async def test_billable_seconds_and_timeout_expiry(e2b_emulator: E2BEmulator) -> None:
    """Billing runs on the emulator clock; a sandbox past its timeout ends at its deadline."""
    e2b_emulator.freeze_clock()
    kept = await AsyncSandbox.create(timeout=600, **sdk_options(e2b_emulator))
    short = await AsyncSandbox.create(timeout=60, **sdk_options(e2b_emulator))
    e2b_emulator.advance(90)
    assert e2b_emulator.billable_seconds(short.sandbox_id) == 60
    assert [s.sandbox_id for s in e2b_emulator.running()] == [kept.sandbox_id]
    with pytest.raises(SandboxException):
        await short.run_code("1")
    await kept.set_timeout(30)
    e2b_emulator.advance(10)
    await kept.kill()
    assert e2b_emulator.billable_seconds(kept.sandbox_id) == 100
