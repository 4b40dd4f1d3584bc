"""``web_search``: the Claude API's server-side web search.

The API runs the searches inside the model call (``server_tool_use`` then
``web_search_tool_result`` blocks); the call's usage counts them in
``server_tool_use.web_search_requests``, and billing prices each one with the price table's
``web_search_per_use`` ($0.01 in table 2026-05) on the step's own charge. Results come back
encrypted for the model and as URLs and titles for us: the user sees them as links under the
answer (:mod:`actors.thread.progress`), and the model's citations are kept in the answer.

A long search run may end a response with ``pause_turn``; the turn sends the paused
content back unchanged and the API continues where it stopped.
"""

from __future__ import annotations

from typing import Final

from actors.thread.progress import server_status
from actors.thread.tools.base import Tool

NAME: Final = "web_search"
MAX_USES: Final = 8
"""Searches per model call: enough for a thorough answer, at most $0.08 per call."""

TOOL: Final = Tool(
    name=NAME,
    description="Search the web (run by the Claude API).",
    input_schema={},
    server=True,
    api_definition={"type": "web_search_20250305", "max_uses": MAX_USES},
    # Not ``paid`` in the runtime's sense: the API runs it inside the model call, so there is
    # no moment to ask the balance policy; a turn only starts with a positive balance, and
    # each search is charged with the step's usage.
    status=lambda language, tool_input: server_status(language, NAME, tool_input),
)
