"""E2B emulator: the sandbox control plane and the in-sandbox envd / code-interpreter endpoints
the `e2b-code-interpreter` SDK talks to, on one local port. FOR TESTS ONLY: code is really run,
in a local subprocess in a temporary directory, with no isolation beyond that.

Point the SDK at it (see `sdk_options`): ``AsyncSandbox.create(api_key="k",
api_url=emulator.base_url, sandbox_url=emulator.base_url, http_version="1.1")``, or the
environment E2B_API_URL, E2B_SANDBOX_URL, E2B_HTTP_VERSION=1.1, E2B_API_KEY. (``sandbox_url``
sends every in-sandbox call to one address; the SDK names the sandbox in the E2b-Sandbox-Id
header, which the emulator routes by, as E2B's proxy does. HTTP/1.1 because the SDK's default
HTTP/2 needs TLS.)

What it answers
- ``POST /v2/sandboxes`` (201: sandboxID, envdVersion, envdAccessToken; the body's envVars and
  metadata kept), ``GET /sandboxes/{id}``, ``POST /sandboxes/{id}/timeout``,
  ``DELETE /sandboxes/{id}`` (204; the sandbox's directory is removed). Auth: X-API-KEY
  (missing, or not in ``api_keys`` when given: 401). Errors: ``{"code", "message"}``.
- ``POST /execute`` (``sandbox.run_code``): the cell runs in a fresh Python subprocess in the
  sandbox's /home/user; stdout, stderr, the last expression's repr as the main result
  (its text), an uncaught exception as the execution error (name, value, traceback).
  A cell running longer than ``execution_limit`` seconds is killed and answers a
  TimeoutError execution error. Python state does NOT persist between cells (a real
  Jupyter kernel keeps it); files written do persist.
- ``GET /files?path=`` / ``POST /files`` (``sandbox.files.read`` / ``write``, multipart or
  octet-stream): paths map into the sandbox's directory; relative ones from /home/user.
- ``/filesystem.Filesystem/ListDir`` and ``/Remove`` (``sandbox.files.list`` / ``remove``):
  envd's Connect-RPC in the SDK's JSON codec; entries with size, type, mode, modified time.
- ``/process.Process/Start`` (``sandbox.commands.run``): server-streaming Connect-RPC; the
  command runs with bash in the sandbox's directory (the cwd asked for, else /home/user),
  stdout/stderr and the exit code streamed back; over ``execution_limit`` it is killed.
  The commands received are kept in ``emulator.sandboxes[id].commands`` (e.g. to check a
  ``pip install`` was asked for without running one: script that in your test's command).
- Billing: ``emulator.billable_seconds(sandbox_id)``: whole seconds from create to kill or
  expiry (to now while running), at least 1, on the emulator's clock: ``advance(90)`` moves
  it on without waiting, ``freeze_clock()`` stops real time for exact figures. A sandbox
  whose timeout (create's ``timeout``, renewed by ``set_timeout``) passes ends at its
  deadline; later calls to it answer 404.

Scripting
- ``emulator.fail_next_create(429, "rate limited")`` (or 500, 401, ...): the next create fails.
- ``emulator.execution_limit = 0.5``: a tighter server-side limit.
- ``emulator.sandboxes`` / ``running()``: state per sandbox (root directory, executions, the
  code of each cell, env); ``emulator.calls`` / ``GET /_control/requests``; reset forgets all.

Not emulated: background commands, stdin and PTYs, the other filesystem RPCs
(stat, make_dir, rename, watch), code contexts, languages other than Python, pause/resume.
"""

from typing import Any

from .server import ENVD_VERSION, E2BEmulator, EmulatedSandbox


def sdk_options(emulator: E2BEmulator, api_key: str = "emulator-key") -> dict[str, Any]:
    """Keyword arguments for ``AsyncSandbox.create`` / ``connect`` that select the emulator."""
    return {
        "api_key": api_key,
        "api_url": emulator.base_url,
        "sandbox_url": emulator.base_url,
        "http_version": "1.1",
    }


__all__ = ["ENVD_VERSION", "E2BEmulator", "EmulatedSandbox", "sdk_options"]
