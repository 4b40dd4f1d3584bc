"""``web_fetch``: the Claude API's server-side page fetch (beta ``web-fetch-2025-09-10``).

The API fetches a URL the user gave or a search returned (it refuses URLs the model makes
up), puts the page text in the context and returns a ``web_fetch_tool_result`` block. It
costs only the tokens the page adds (the price table's ``web_fetch_per_use`` is 0), so the
page size is capped by ``max_content_tokens``. Citations are on: the answer can quote the
page and the user sees the cited pages as links.
"""

from __future__ import annotations

from typing import Final

from actors.thread.progress import server_status
from actors.thread.tools.base import Tool

NAME: Final = "web_fetch"
BETA: Final = "web-fetch-2025-09-10"
MAX_USES: Final = 8
MAX_CONTENT_TOKENS: Final = 40_000
"""About $0.12 of Sonnet input per page at most; long pages are truncated by the API."""

TOOL: Final = Tool(
    name=NAME,
    description="Fetch a web page or PDF by URL (run by the Claude API).",
    input_schema={},
    server=True,
    api_definition={
        "type": "web_fetch_20250910",
        "max_uses": MAX_USES,
        "citations": {"enabled": True},
        "max_content_tokens": MAX_CONTENT_TOKENS,
    },
    status=lambda language, tool_input: server_status(language, NAME, tool_input),
    betas=(BETA,),
)
