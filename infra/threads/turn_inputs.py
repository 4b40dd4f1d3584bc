"""A turn's request inputs: its files taken in (or inlined without a file intake), the
request up to the turn's own steps, a resumed turn's continuation, and the one re-upload
when the API says a referenced file is gone."""

from __future__ import annotations

import logging
import re
from typing import Any, Final

import msgspec

from actors.thread.content import MODEL_READABLE, classify_message
from actors.thread.context import FileView, TurnRequest, build_request
from actors.thread.errors import ModelFailure
from actors.thread.token_budget import FilesTooLarge
from actors.thread.tool_calls import continuation_of
from infra.files.intake import FileIntake
from infra.threads.claude_client import ModelCallError
from infra.threads.store_port import Commit
from infra.threads.telegram_output import TelegramOutput
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn_drafts import TurnDrafts
from infra.threads.turn_state import TurnHandle

log = logging.getLogger(__name__)

_FILE_NOT_FOUND: Final = re.compile(r"File not found: (file_[A-Za-z0-9_-]+)")


class TurnInputs:
    def __init__(
        self,
        telegram: TelegramOutput,
        tools: ToolRuntime | None,
        files: FileIntake | None,
        drafts: TurnDrafts,
    ) -> None:
        self.telegram = telegram
        self.tools = tools
        self.files = files
        self.drafts = drafts

    async def base_request(self, handle: TurnHandle, commit: Commit) -> TurnRequest:
        """The request up to this turn's own steps (a resumed turn's history already holds
        their text; they are sent as the continuation instead)."""
        running = handle.running
        started = running.started
        view: FileView | None = None
        file_blocks: dict[int, list[dict[str, Any]]] = {}
        if self.files is not None:
            handle.state, view = await self.files.prepare(
                handle.state, running, commit, on_transcript=self.drafts.transcript_shown(handle)
            )
        else:
            file_blocks = await self._file_blocks(handle)
        state = handle.state
        if running.steps:
            history = tuple(i for i in state.history if i.turn_id != running.turn_id)
            state = msgspec.structs.replace(state, history=history)
        try:
            return build_request(
                state,
                model=started.model,
                personality=started.personality,
                thinking_budget=started.thinking_budget_tokens,
                file_blocks=file_blocks,
                thinking_level=started.thinking_level,
                tools=self.tools.definitions(started.model) if self.tools is not None else (),
                betas=self.tools.registry.betas(started.model) if self.tools is not None else (),
                files=view,
            )
        except FilesTooLarge as exc:  # refused before the call: nothing consumed
            raise ModelCallError(ModelFailure("file_too_large", str(exc))) from None

    async def resumed(self, handle: TurnHandle, commit: Commit) -> list[dict[str, Any]]:
        """A turn resumed after a crash mid-loop: settle the interrupted calls (re-run once or
        failed, per tool), run what is left, and rebuild the continuation from the events."""
        running = handle.running
        if not running.transcript:
            return []
        if self.tools is not None:
            running = await self.tools.settle_interrupted(running, commit)
            running = await self.tools.run_pending(running, handle.state, handle.tools, commit)
            handle.running = running
        return continuation_of(running, handle.tools.blocks)

    def files_gone(self, handle: TurnHandle, exc: ModelCallError) -> bool:
        """True (once per turn) when the API refused the request because a referenced file is
        gone (expired or deleted there before our clock said so): those uploads are marked
        stale, so the next request uploads them again."""
        failure = exc.failure
        if self.files is None or handle.files_refreshed or failure.streamed:
            return False
        gone = _FILE_NOT_FOUND.findall(failure.detail) if failure.status == 404 else []
        if not gone:
            return False
        handle.files_refreshed = True
        self.files.mark_stale(*gone)
        log.info(
            "referenced files gone at the API, uploading again", extra={"fields": {"files": gone}}
        )
        return True

    async def _file_blocks(self, handle: TurnHandle) -> dict[int, list[dict[str, Any]]]:
        """The input's files inlined (base64/text): only without a file intake."""
        blocks: dict[int, list[dict[str, Any]]] = {}
        for message in handle.inputs:
            for readable in classify_message(message).readable:
                if readable.kind not in MODEL_READABLE:
                    continue
                block = await self.telegram.file_block(readable)
                if block is not None:
                    blocks.setdefault(message.message_id, []).append(block)
        return blocks
