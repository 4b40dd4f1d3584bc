"""Where the Claude API is and the headers a request to it carries, without the SDK.

The thread worker's calls to the Messages API go through its own client
(:mod:`infra.threads.messages_stream`); the anthropic SDK (~3.5 s of CPU to import, most of a
process's start) is imported only where it is still used, the Files API uploads, on the first
upload. The headers are the ones the SDK's ``AsyncAnthropic`` sends by default (its version
and API version below, pinned to the installed SDK by a test): the key as a bearer token, the
API version, JSON, the user agent and the SDK's platform headers.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import anthropic

SDK_VERSION: Final = "2.15.0"
"""The anthropic SDK whose requests ours match (``anthropic.__version__``)."""
API_VERSION: Final = "2026-10-21"
"""The ``anthropic-version`` header (the SDK's ``ANTHROPIC_API_VERSION``)."""


@dataclass(frozen=True, slots=True)
class ClaudeApi:
    """The API's base URL and the headers of every request (the key among them)."""

    base_url: str
    headers: dict[str, str]

    @classmethod
    def with_key(cls, base_url: str, api_key: str) -> ClaudeApi:
        """The API at ``base_url`` with the headers the SDK would send for ``api_key``."""
        return cls(base_url, sdk_headers(api_key))

    @classmethod
    def of_sdk_client(cls, client: anthropic.AsyncAnthropic) -> ClaudeApi:
        """The base URL and default headers of an SDK client."""
        headers = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}
        return cls(str(client.base_url), headers)


def sdk_headers(api_key: str) -> dict[str, str]:
    """The default headers of ``anthropic.AsyncAnthropic(api_key=api_key)`` used in a running
    event loop."""
    return {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": f"AsyncAnthropic/Python {SDK_VERSION}",
        "X-Stainless-Lang": "python",
        "X-Stainless-Package-Version": SDK_VERSION,
        "X-Stainless-OS": _os_name(),
        "X-Stainless-Arch": _arch(),
        "X-Stainless-Runtime": platform.python_implementation(),
        "X-Stainless-Runtime-Version": platform.python_version(),
        "Authorization": f"Bearer {api_key}",
        "X-Stainless-Async": "async:asyncio",
        "anthropic-version": API_VERSION,
    }


def _os_name() -> str:
    system = platform.system().lower()
    names = {
        "darwin": "MacOS",
        "windows": "Windows",
        "linux": "Linux",
        "freebsd": "FreeBSD",
        "openbsd": "OpenBSD",
    }
    if system == "linux" and "android" in platform.release().lower():
        return "Android"
    return names.get(system, f"Other:{system}" if system else "Unknown")


def _arch() -> str:
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return "arm64"
    if machine in ("arm", "x86_64"):
        return "arm" if machine == "arm" else "x64"
    if sys.maxsize <= 2**32:
        return "x32"
    return f"other:{machine}" if machine else "unknown"
