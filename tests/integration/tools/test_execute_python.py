"""``execute_python`` on the E2B adapter against the E2B emulator (the real
e2b-code-interpreter SDK): uploads, generated files, warm reuse, idle close, pip, and every
failure mode answered with a clear message and nothing consumed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tool_harness import Clock, providers_with, tool_context, user_file

from actors.thread.tools import execute_python
from actors.thread.tools.base import ToolFailure
from devkit.emulators.e2b_sandbox import E2BEmulator
from infra.files.pg_store import PostgresFileStore
from infra.tools.e2b_sandbox import E2BConfig, E2BSandboxes

CSV = b"month,sales\njan,3\nfeb,5\nmar,2\n"
CODE = """\
import csv, os
rows = list(csv.DictReader(open('sales.csv')))
total = sum(int(r['sales']) for r in rows)
os.makedirs('out', exist_ok=True)
open('out/summary.txt', 'w').write(f'total {total}')
print('rows', len(rows))
total
"""


async def test_a_csv_in_and_files_out(
    sandboxes: E2BSandboxes,
    e2b_emulator: E2BEmulator,
    file_store: PostgresFileStore,
) -> None:
    """The thread's CSV is uploaded under its name, the code's output, result and the file
    it wrote in a subfolder come back; the run is charged in whole sandbox seconds."""
    note = await user_file(file_store, CSV, "sales.csv", "text/csv", stored_kind="text")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(sandbox=sandboxes))
    result = await execute_python.run({"code": CODE, "file_ids": [note.id]}, ctx)
    report = json.loads(result.output)
    assert report["uploaded"] == ["sales.csv"]
    assert report["stdout"] == "rows 3\n"
    assert report["result"] == "10"
    assert "error" not in report
    assert [(f.name, f.mime_type, f.data) for f in result.new_files] == [
        ("summary.txt", "text/plain", b"total 10")
    ]
    assert result.quantities.sandbox_seconds >= Decimal(1)
    assert result.sandbox_id in e2b_emulator.sandboxes


async def test_the_sandbox_stays_warm_and_old_files_are_not_reported_again(
    sandboxes: E2BSandboxes,
    e2b_emulator: E2BEmulator,
    file_store: PostgresFileStore,
) -> None:
    """A second call of the thread reuses its sandbox (files from the first are still
    there) and reports only the files this run wrote."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    first = await execute_python.run({"code": "open('a.txt','w').write('one')"}, ctx)
    second = await execute_python.run(
        {"code": "open('b.txt','w').write(open('a.txt').read() + ' two')"}, ctx
    )
    assert first.sandbox_id == second.sandbox_id
    assert json.loads(second.output)["sandbox"] == "reused (warm)"
    assert [f.name for f in first.new_files] == ["a.txt"]
    assert [(f.name, f.data) for f in second.new_files] == [("b.txt", b"one two")]
    assert len(e2b_emulator.running()) == 1


async def test_another_thread_gets_its_own_sandbox(
    sandboxes: E2BSandboxes, file_store: PostgresFileStore
) -> None:
    """Sandboxes are per thread: another thread key never sees the first one's files."""
    ours = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    theirs = tool_context(
        file_store, providers=providers_with(sandbox=sandboxes), thread_key="other"
    )
    await execute_python.run({"code": "open('secret.txt','w').write('x')"}, ours)
    result = await execute_python.run({"code": "import os\nos.path.exists('secret.txt')"}, theirs)
    assert json.loads(result.output)["result"] == "False"
    assert len(set(sandboxes.warm().values())) == 2


async def test_idle_sandboxes_are_closed(
    e2b_emulator: E2BEmulator, file_store: PostgresFileStore
) -> None:
    """A sandbox idle for longer than the idle timeout is killed; a recent one is kept."""
    clock = Clock()
    pool = E2BSandboxes(
        E2BConfig(
            api_key="k",
            api_url=e2b_emulator.base_url,
            sandbox_url=e2b_emulator.base_url,
            http_version="1.1",
            idle_timeout=60,
        ),
        clock=clock,
    )
    try:
        providers = providers_with(sandbox=pool)
        await execute_python.run({"code": "1"}, tool_context(file_store, providers=providers))
        clock.now += 50
        later = tool_context(file_store, providers=providers, thread_key="later")
        await execute_python.run({"code": "2"}, later)
        clock.now += 20
        assert await pool.close_idle() == [str(424242)]
        assert list(pool.warm()) == ["later"]
        assert len(e2b_emulator.running()) == 1
    finally:
        await pool.close()
    assert e2b_emulator.running() == []


async def test_packages_are_pip_installed(
    sandboxes: E2BSandboxes, e2b_emulator: E2BEmulator, file_store: PostgresFileStore
) -> None:
    """Requested packages are installed with one quoted pip command before the code runs;
    a package pip cannot install fails the call with pip's reason and no charge."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    result = await execute_python.run({"code": "1", "packages": ["tabulate==0.9.0"]}, ctx)
    assert json.loads(result.output)["installed"] == ["tabulate==0.9.0"]
    sandbox = e2b_emulator.sandboxes[str(result.sandbox_id)]
    assert sandbox.commands[-1].startswith("pip install")
    assert sandbox.commands[-1].endswith("tabulate==0.9.0")
    e2b_emulator.script_command(
        "pip install", stderr="ERROR: No matching distribution found for nosuch", exit_code=1
    )
    with pytest.raises(ToolFailure) as caught:
        await execute_python.run({"code": "1", "packages": ["nosuch"]}, ctx)
    assert caught.value.error_class == "invalid_input"
    assert "No matching distribution" in caught.value.message
    assert caught.value.quantities.is_zero()


@pytest.mark.parametrize(
    "package", ["--index-url=http://evil", "x; rm -rf /", "git+https://x/y", "a b"]
)
async def test_package_names_that_are_no_requirement_are_refused(
    sandboxes: E2BSandboxes, file_store: PostgresFileStore, package: str
) -> None:
    """Options, URLs and shell text are refused before any sandbox starts."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    with pytest.raises(ToolFailure, match="not a pip requirement"):
        await execute_python.run({"code": "1", "packages": [package]}, ctx)
    assert sandboxes.warm() == {}


async def test_an_exception_in_the_code_is_a_result_and_charged(
    sandboxes: E2BSandboxes, file_store: PostgresFileStore
) -> None:
    """The code's own error comes back to the model as the run's error; the run happened,
    so its seconds are charged."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    result = await execute_python.run({"code": "print('before')\n1/0"}, ctx)
    report = json.loads(result.output)
    assert report["error"].startswith("ZeroDivisionError: division by zero")
    assert report["stdout"] == "before\n"
    assert not result.is_error
    assert result.quantities.sandbox_seconds >= 1


async def test_oversized_output_is_cut_and_big_files_are_not_collected(
    sandboxes: E2BSandboxes, file_store: PostgresFileStore
) -> None:
    """Megabytes of stdout reach the model cut, with a note; a file over the size limit is
    named as not collected instead of being read."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    code = (
        "print('x' * 3_000_000)\n"
        "open('big.bin', 'wb').write(b'0' * (21 * 1024 * 1024))\n"
        "open('small.csv', 'w').write('a\\n1\\n')"
    )
    result = await execute_python.run({"code": code}, ctx)
    report = json.loads(result.output)
    assert len(report["stdout"]) < 9_000
    assert "more characters cut" in report["stdout"]
    assert report["files_not_collected"] == ["big.bin: 22020096 bytes, over 20 MB"]
    assert [f.name for f in result.new_files] == ["small.csv"]


async def test_a_run_over_its_time_limit_fails_as_timeout(
    sandboxes: E2BSandboxes, e2b_emulator: E2BEmulator, file_store: PostgresFileStore
) -> None:
    """Code running past timeout_seconds fails the call as a timeout with nothing charged;
    the stuck sandbox is not reused."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    with pytest.raises(ToolFailure) as caught:
        await execute_python.run({"code": "import time\ntime.sleep(30)", "timeout_seconds": 1}, ctx)
    assert caught.value.error_class == "timeout"
    assert caught.value.quantities.is_zero()
    assert sandboxes.warm() == {}


async def test_the_sandboxs_own_execution_limit_is_a_timeout(
    sandboxes: E2BSandboxes, e2b_emulator: E2BEmulator, file_store: PostgresFileStore
) -> None:
    """A cell the sandbox itself stops (its execution limit) fails the call as a timeout."""
    e2b_emulator.execution_limit = 0.5
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    with pytest.raises(ToolFailure) as caught:
        await execute_python.run({"code": "import time\ntime.sleep(30)"}, ctx)
    assert caught.value.error_class == "timeout"
    assert caught.value.quantities.is_zero()


async def test_rate_limited_sandbox_creation(
    sandboxes: E2BSandboxes, e2b_emulator: E2BEmulator, file_store: PostgresFileStore
) -> None:
    """E2B answering 429 beyond the SDK's own retries fails the call as rate_limited."""
    for _ in range(6):
        e2b_emulator.fail_next_create(429, "rate limit exceeded")
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    with pytest.raises(ToolFailure) as caught:
        await execute_python.run({"code": "1"}, ctx)
    assert caught.value.error_class == "rate_limited"
    assert caught.value.quantities.is_zero()


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors(
    sandboxes: E2BSandboxes, e2b_emulator: E2BEmulator, file_store: PostgresFileStore, status: int
) -> None:
    """A 5xx on sandbox creation (beyond the SDK's retries) or on the run fails the call as
    provider_error, with E2B's message and nothing charged; the next call starts a fresh
    sandbox and works."""
    ctx = tool_context(file_store, providers=providers_with(sandbox=sandboxes))
    for _ in range(6):
        e2b_emulator.fail_next_create(status, "sandbox service unavailable")
    with pytest.raises(ToolFailure) as create_failed:
        await execute_python.run({"code": "1"}, ctx)
    assert create_failed.value.error_class == "provider_error"
    assert "sandbox service unavailable" in create_failed.value.message
    e2b_emulator.create_failures.clear()
    e2b_emulator.fail_next_execute(status, "kernel gateway error")
    with pytest.raises(ToolFailure) as run_failed:
        await execute_python.run({"code": "1"}, ctx)
    assert run_failed.value.error_class == "provider_error"
    assert run_failed.value.quantities.is_zero()
    result = await execute_python.run({"code": "6 * 7"}, ctx)
    assert json.loads(result.output)["result"] == "42"
