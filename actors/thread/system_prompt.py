"""The system prompt of a turn: ours (introducing the model's maker), a line of guidance per
tool offered, then the user's personality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from actors.thread.models import model_spec

BASE_SYSTEM_PROMPT: Final = (
    "You are Claude, an AI assistant made by Anthropic, talking with a user in Telegram. "
    "Answer in the user's language. Use Markdown sparingly (bold, italic, inline code, fenced "
    "code blocks, links, lists); Telegram shows no tables or headings, so prefer lists."
)

TOOL_GUIDANCE: Final[dict[str, str]] = {
    "web_search": "web_search for anything recent, niche or checkable; cite what you use.",
    "web_fetch": "web_fetch to read a page the user linked or a search found.",
    "list_files": "list_files to see the files sent in this conversation and their ids.",
    "preview_file": "preview_file to look into a file (text is free, images and PDFs cost).",
    "analyze_image": "analyze_image to look again at an image sent earlier, by its file id.",
    "analyze_pdf": "analyze_pdf to read pages of a PDF sent earlier, by its file id.",
    "extended_thinking": "extended_thinking for a hard sub-problem before you answer.",
    "self_critique": "self_critique to have a stronger reviewer check a long or risky answer.",
    "estimate_cost": "estimate_cost before expensive work, and tell the user if it is costly.",
    "execute_python": "execute_python to compute, analyse data files or draw charts (saved).",
    "generate_image": "generate_image to draw or edit a picture the user asks for.",
    "transcribe_audio": "transcribe_audio for speech in an audio or video file, by its id.",
    "render_latex": "render_latex when a formula reads better typeset than as text.",
    "deliver_file": "deliver_file to send the user a file a tool made (or one of theirs).",
}
"""One line per tool in the system prompt (only for the tools offered)."""
TOOLS_INTRO: Final = (
    "You have tools. Use one when it clearly helps; answer directly when it does not. "
    "Several independent calls may go in one step. Paid tools cost the user money, so do "
    "not repeat a call that already answered. Use:"
)


def tool_guidance(tool_names: Sequence[str]) -> str:
    lines = [f"- {TOOL_GUIDANCE[name]}" for name in tool_names if name in TOOL_GUIDANCE]
    return TOOLS_INTRO + "\n" + "\n".join(lines) if lines else ""


CLAUDE_IDENTITY: Final = "You are Claude, an AI assistant made by Anthropic,"
GEMINI_IDENTITY: Final = "You are Gemini, an AI assistant made by Google,"
"""Replaces Claude's introduction in the system prompt of a Gemini model."""


def system_prompt(
    personality: str | None, tool_names: Sequence[str] = (), model: str | None = None
) -> str:
    """The system prompt: ours (introducing the model's maker), tool guidance for the tools
    offered, then the personality."""
    prompt = BASE_SYSTEM_PROMPT
    if model is not None and model_spec(model).provider == "google":
        prompt = prompt.replace(CLAUDE_IDENTITY, GEMINI_IDENTITY)
    guidance = tool_guidance(tool_names)
    if guidance:
        prompt += "\n\n" + guidance
    if personality and personality.strip():
        return (
            prompt
            + "\n\nThe user asked you to follow this personality and these instructions:\n"
            + personality.strip()
        )
    return prompt
