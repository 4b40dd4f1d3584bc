"""What the user sees of a turn's work: thinking, one line per tool call, sources.

While a turn runs, its draft shows (top to bottom) the model's latest thinking in an
expandable blockquote, one line per tool call ("searching the web for ..."), then the answer
so far. The final message keeps a compact trace: one italic line naming what was done
(thought, searched, read, looked at) above the answer, and the web sources as links below it.

Pure: the turn feeds it stream blocks and tool events; it renders text with entities (the
draft's header) and Markdown (the final message, rendered like any answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import urlsplit

from actors.texts import DEFAULT_LANGUAGE, Language, say
from actors.thread.telegram_text import Rendered, concat, styled

THINKING_SHOWN_CHARS: Final = 900
"""The draft shows the newest part of the thinking (the blockquote collapses anyway)."""
MAX_LINES_SHOWN: Final = 8
MAX_SOURCES: Final = 6
STATUS_CHARS: Final = 80
TRANSCRIPT_SHOWN_CHARS: Final = 700
"""A voice message's transcript shown in the draft (the model reads all of it)."""

ICONS: Final[dict[str, str]] = {
    "web_search": "🔍",
    "web_fetch": "🌐",
    "extended_thinking": "🧠",
    "self_critique": "🧐",
    "analyze_image": "🖼️",
    "analyze_pdf": "📄",
    "preview_file": "👁️",
    "list_files": "📋",
    "estimate_cost": "💲",
    "execute_python": "🐍",
    "generate_image": "🎨",
    "transcribe_audio": "🎤",
    "render_latex": "📐",
    "deliver_file": "📤",
}
ChatAction: TypeAlias = Literal["typing", "upload_photo", "upload_document", "record_voice"]
CHAT_ACTIONS: Final[dict[str, ChatAction]] = {
    "generate_image": "upload_photo",
    "render_latex": "upload_photo",
    "deliver_file": "upload_document",
    "transcribe_audio": "record_voice",
}
"""The chat action while a tool runs (anything not listed: ``typing``)."""

CallState: TypeAlias = Literal["running", "done", "failed"]


def chat_action_for(tool_name: str | None) -> ChatAction:
    return CHAT_ACTIONS.get(tool_name or "", "typing")


def _short(text: str, limit: int = STATUS_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _page(url: str) -> str:
    parts = urlsplit(url)
    shown = (parts.netloc + parts.path).rstrip("/") or url
    return _short(shown.removeprefix("www."), 60)


def server_status(language: Language, name: str, tool_input: Mapping[str, Any]) -> str:
    """The line for a server tool call, from its input."""
    if name == "web_search":
        return say(language, "status.web_search", query=_short(str(tool_input.get("query", ""))))
    if name == "web_fetch":
        return say(language, "status.web_fetch", page=_page(str(tool_input.get("url", ""))))
    return say(language, "status.using", name=name)


@dataclass(slots=True)
class CallLine:
    tool_use_id: str
    name: str
    status: str
    state: CallState = "running"
    action: ChatAction | None = None

    def text(self, language: Language) -> str:
        icon = ICONS.get(self.name, "🔧")
        suffix = {"running": "…", "done": "", "failed": say(language, "progress.failed")}
        return f"{icon} {self.status}{suffix[self.state]}"


@dataclass(frozen=True, slots=True)
class Source:
    url: str
    title: str


@dataclass(slots=True)
class TurnTrace:
    """The visible progress of one turn (see the module docstring), in ``language``."""

    language: Language = DEFAULT_LANGUAGE
    thinking: str = ""
    thought: bool = False
    calls: list[CallLine] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    cited: list[Source] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ feeding

    def add_transcript(self, text: str, seconds: float | None = None) -> None:
        """A voice message or video note was transcribed: the user sees what was heard."""
        length = f" ({round(seconds) // 60}:{round(seconds) % 60:02d})" if seconds else ""
        shown = text if len(text) <= TRANSCRIPT_SHOWN_CHARS else text[:TRANSCRIPT_SHOWN_CHARS] + "…"
        heard = shown or say(self.language, "progress.silence")
        self.transcripts.append(say(self.language, "progress.heard", length=length, text=heard))

    def add_thinking(self, delta: str) -> None:
        self.thought = True
        self.thinking = (self.thinking + delta)[-4 * THINKING_SHOWN_CHARS :]

    def new_step(self) -> None:
        """A new model call: its thinking replaces the previous one's in the draft."""
        self.thinking = ""

    def tool_started(
        self, tool_use_id: str, name: str, status: str, action: ChatAction | None = None
    ) -> None:
        if any(c.tool_use_id == tool_use_id for c in self.calls):
            return
        self.calls.append(CallLine(tool_use_id, name, _short(status), action=action))

    def tool_finished(self, tool_use_id: str, *, ok: bool) -> None:
        for call in self.calls:
            if call.tool_use_id == tool_use_id:
                call.state = "done" if ok else "failed"

    def statuses(self, lines: Mapping[str, str]) -> None:
        """The latest status line of each running call (a tool may report progress)."""
        for call in self.calls:
            line = lines.get(call.tool_use_id)
            if line and call.state == "running":
                call.status = _short(line)

    def running_tool(self) -> str | None:
        """The name of the newest call still running."""
        for call in reversed(self.calls):
            if call.state == "running":
                return call.name
        return None

    def chat_action(self) -> ChatAction:
        """The chat action of the newest call still running (its tool's own choice, else
        by name; ``typing`` when none runs)."""
        for call in reversed(self.calls):
            if call.state == "running":
                return call.action or chat_action_for(call.name)
        return "typing"

    def block(self, block: Mapping[str, Any]) -> None:
        """A finished content block of the stream (server tool calls and their results,
        text with citations)."""
        kind = block.get("type")
        if kind == "server_tool_use":
            name = str(block.get("name", ""))
            tool_input = block.get("input") or {}
            self.tool_started(
                str(block.get("id", "")),
                name,
                server_status(
                    self.language, name, tool_input if isinstance(tool_input, Mapping) else {}
                ),
            )
        elif kind in ("web_search_tool_result", "web_fetch_tool_result"):
            self._server_result(block)
        elif kind == "text":
            for citation in block.get("citations") or ():
                url = citation.get("url") if isinstance(citation, Mapping) else None
                if url:
                    self._add(self.cited, Source(str(url), str(citation.get("title") or url)))
        elif kind == "thinking":
            self.thought = True

    def blocks(self, content: Sequence[Mapping[str, Any]]) -> None:
        for block in content:
            self.block(block)

    def _server_result(self, block: Mapping[str, Any]) -> None:
        tool_use_id = str(block.get("tool_use_id", ""))
        content = block.get("content")
        failed = isinstance(content, Mapping) and str(content.get("type", "")).endswith("_error")
        self.tool_finished(tool_use_id, ok=not failed)
        if block.get("type") == "web_search_tool_result" and isinstance(content, list):
            for result in content:
                if isinstance(result, Mapping) and result.get("url"):
                    url = str(result["url"])
                    self._add(self.sources, Source(url, str(result.get("title") or url)))
        elif isinstance(content, Mapping) and content.get("url"):
            url = str(content["url"])
            title = ((content.get("content") or {}).get("title")) if not failed else None
            self._add(self.sources, Source(url, str(title or _page(url))))

    @staticmethod
    def _add(into: list[Source], source: Source) -> None:
        if all(s.url != source.url for s in into):
            into.append(source)

    # ------------------------------------------------------------------ rendering

    @property
    def empty(self) -> bool:
        return not self.thinking and not self.calls and not self.transcripts

    def draft_header(self) -> Rendered:
        """Shown above the answer in a draft: transcripts of voice input, the latest thinking
        in an expandable quote, then one line per tool call (empty when there is nothing)."""
        parts: list[Rendered] = [Rendered(line) for line in self.transcripts]
        if self.thinking.strip():
            tail = self.thinking[-THINKING_SHOWN_CHARS:].strip()
            lines = [
                say(self.language, "progress.thinking"),
                *(line for line in tail.splitlines() if line.strip()),
            ]
            parts.append(styled("\n".join(lines), "expandable_blockquote"))
        shown = self.calls[-MAX_LINES_SHOWN:]
        earlier = len(self.calls) - len(shown)
        lines = [say(self.language, "progress.earlier", count=earlier)] if earlier else []
        lines += [call.text(self.language) for call in shown]
        parts.append(Rendered("\n".join(lines)))
        return concat(parts, "\n")

    def summary(self) -> str:
        """The compact trace line of the final message ('' when nothing was done)."""
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.name] = counts.get(call.name, 0) + 1
        language = self.language
        items = [say(language, "progress.transcribed")] if self.transcripts else []
        if self.thought:
            items.append(say(language, "progress.thought"))
        for name, count in counts.items():
            icon = ICONS.get(name, "🔧")
            label = say(language, f"summary.{name}") if name in SUMMARIZED else name
            items.append(f"{icon} {label}" + (f" ({count})" if count > 1 else ""))
        return " · ".join(items)

    def final_markdown(self, answer: str) -> str:
        """The final message: the trace line, the answer, the sources as links."""
        return "".join(self.final_parts(answer))

    def final_parts(self, answer: str) -> tuple[str, str, str]:
        """The final message in three parts: what comes before the answer (the trace line),
        the answer stripped, and what comes after it (the sources as links)."""
        core = answer.strip()
        summary = self.summary()
        before = (f"_{summary}_\n\n" if core else f"_{summary}_") if summary else ""
        after = ""
        sources = (self.cited or self.sources)[:MAX_SOURCES]
        if sources:
            links = "\n".join(f"• [{_link_text(s.title)}]({s.url})" for s in sources)
            after = f"\n\n**{say(self.language, 'progress.sources')}**\n{links}"
        return before, core, after


SUMMARIZED: Final = frozenset(
    {
        "web_search",
        "web_fetch",
        "extended_thinking",
        "self_critique",
        "analyze_image",
        "analyze_pdf",
        "preview_file",
        "list_files",
        "estimate_cost",
        "execute_python",
        "generate_image",
        "transcribe_audio",
        "render_latex",
        "deliver_file",
    }
)
"""Tools named in the final message's trace line by their own words (``summary.<tool>``)."""


def _link_text(title: str) -> str:
    return _short(title.replace("[", "(").replace("]", ")"), 70)
