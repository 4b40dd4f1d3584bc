"""What a tool is: its declaration (:class:`Tool`), what it receives (:class:`ToolContext`),
what it returns (:class:`ToolResult`) and the ports it may use (:class:`ModelPort`,
:class:`FilesPort`).

A tool module is pure: it imports no I/O library. Everything with effects reaches it
through the ports in its context, which the thread worker wires to real adapters (the
Claude API, Telegram's file downloads) and tests to the emulators. The tool runtime
(``infra/threads/tool_runtime.py``) decides nothing a tool declares: whether it is paid,
its timeout and its crash rule are read from here.

Cost: a tool never computes money. Its executor reports what it consumed as
:class:`~events.usage.ToolQuantities` (model calls it made, sandbox seconds, images...);
the runtime prices them through the versioned price table (``actors/billing/pricing.py``)
and charges them through the ledger, naming the table version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal, Protocol, TypeAlias

from actors.texts import DEFAULT_LANGUAGE, Language, say
from actors.thread.file_store import ThreadFiles
from actors.thread.models import model_spec
from actors.thread.state import FileNote, HistoryItem, ThreadState
from actors.thread.tools.failure import ToolFailure as ToolFailure
from actors.thread.tools.produced import ProducedFile
from actors.thread.tools.providers import UNAVAILABLE, ChatAction, Providers
from events.usage import ModelId, ToolQuantities, Usage

CrashRule: TypeAlias = Literal["fail", "rerun_once"]
"""What happens to a call that was running when the worker died (we cannot know whether its
effect happened): ``fail`` reports it failed (``interrupted``) and never runs it again, for a
tool whose effect must not happen twice (it spends money outside, sends something, writes
somewhere); ``rerun_once`` runs it once more, for a tool that is safe to repeat (a read, a
computation)."""

DEFAULT_TIMEOUT: Final = 60.0
"""Seconds a client tool may run before it is failed with ``timeout``."""


@dataclass(frozen=True, slots=True)
class ModelReply:
    """One Claude call made by a tool: its content blocks (JSON dicts), text and usage."""

    model: ModelId
    content: list[dict[str, Any]]
    text: str
    stop_reason: str
    usage: Usage


class ModelPort(Protocol):
    """The Claude Messages API for tools (vision, subagents, thinking).

    ``request`` is the Messages API body (``model``, ``max_tokens``, ``messages``...).
    Failures raise :class:`ToolFailure` (``provider_error``, ``rate_limited``,
    ``timeout``); a cancelled call raises ``asyncio.CancelledError``.
    """

    async def create(
        self,
        request: Mapping[str, Any],
        *,
        on_text: Callable[[str], None] | None = None,
        on_thinking: Callable[[str], None] | None = None,
    ) -> ModelReply: ...


class FilesPort(ThreadFiles, Protocol):
    """The thread's files as the turn's user reaches them (:class:`ThreadFiles`: by our file
    id, bound to the thread and user, so another thread's or user's file is ``not_found``),
    plus :meth:`read` of a history attachment. Failures raise :class:`ToolFailure`
    (``not_found`` with the reason: unknown id, bytes deleted by retention...)."""

    async def read(self, note: FileNote) -> bytes:
        """The bytes of a history attachment (from the store; Telegram for one received
        before the store existed)."""
        ...


class FilesSource(Protocol):
    """Where the runtime gets each call's :class:`FilesPort` (bound to thread and user)."""

    def for_thread(self, thread_key: str, user_id: int) -> FilesPort: ...


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool's executor receives besides its input.

    ``history`` is the thread's conversation (oldest first) and ``files`` every attachment in
    it (newest last); ``balance`` is the user's balance as the runtime estimates it now (this
    turn's own charges included), ``None`` if unknown; ``now`` is the time the call started
    (UTC, for pricing); ``progress`` shows a short status line to the user while it runs;
    ``providers`` are the sandbox, image, speech, TeX and delivery ports; ``chat_id`` and
    ``message_thread_id`` name the chat a delivered file goes to.
    """

    thread_key: str
    user_id: int
    turn_id: str
    tool_use_id: str
    model: ModelId
    history: tuple[HistoryItem, ...]
    files: tuple[FileNote, ...]
    claude: ModelPort
    file_store: FilesPort
    balance: Decimal | None
    now: datetime
    progress: Callable[[str], None] = lambda _line: None
    providers: Providers = UNAVAILABLE
    chat_id: int = 0
    message_thread_id: int = 0
    language: Language = DEFAULT_LANGUAGE
    """The user's language: a tool's ``progress`` lines are worded in it."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a call returned: ``output`` goes back to the model as the ``tool_result``
    content (with ``blocks``, e.g. an image, after it); ``is_error`` marks a failure the
    model should see as such (prefer raising :class:`ToolFailure`, which also sets the class).
    ``quantities`` is what the call consumed, priced by the runtime. ``new_files`` are files
    the call produced: the runtime stores each as a generated file of the thread
    (``thread.file_generated``) and appends their ids to ``output``; ``delivered`` are files
    the call sent into the chat (``thread.file_delivered``)."""

    output: str
    is_error: bool = False
    error_class: str = "internal"
    quantities: ToolQuantities = field(default_factory=ToolQuantities)
    blocks: tuple[dict[str, Any], ...] = ()
    file_ids: tuple[str, ...] = ()
    sandbox_id: str | None = None
    new_files: tuple[ProducedFile, ...] = ()
    delivered: tuple[DeliveredFile, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveredFile:
    """A file of the thread a call sent into the chat."""

    file_id: str
    message_id: int
    sent_as: str
    telegram_file_id: str | None = None


Executor: TypeAlias = Callable[[Mapping[str, Any], ToolContext], Awaitable[ToolResult]]
"""``async def run(tool_input, ctx) -> ToolResult``: the tool's work, through ``ctx``'s ports."""


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool as the model is offered it and the runtime runs it.

    * ``name``, ``description``, ``input_schema``: the Messages API ``tools`` entry of a
      client tool (JSON Schema of the input);
    * ``run``: the executor (``None`` for a server tool);
    * ``paid``: the balance policy (``may_use_paid_tool``) is asked before every call, and a
      refused call fails with ``insufficient_balance``;
    * ``server``: a Claude server tool (``web_search``...): the API runs it inside the model
      call, ``api_definition`` is its ``tools`` entry (``type``, ``max_uses``...) and its
      cost is in the step's usage;
    * ``on_interrupt``: the crash rule (:data:`CrashRule`), a documented choice per tool;
    * ``timeout``: seconds before the call fails with ``timeout``;
    * ``status``: the one-line progress text shown while it runs ("searching the web for
      ..."), from the user's language and its input;
    * ``betas``: beta headers a request offering the tool needs (``web-fetch-...``);
    * ``offered_to``: which models are offered it (default: all);
    * ``serial``: the calls of this tool in one step run one after another, in the order
      the model asked for them (``deliver_file``: files arrive in order), while other
      tools' calls run beside them;
    * ``chat_action``: the chat action shown while it runs, from its input and the thread's
      files (default: by name, see ``actors/thread/progress.py``).
    """

    name: str
    description: str
    input_schema: Mapping[str, Any]
    run: Executor | None = None
    paid: bool = False
    server: bool = False
    api_definition: Mapping[str, Any] | None = None
    on_interrupt: CrashRule = "fail"
    timeout: float = DEFAULT_TIMEOUT
    status: Callable[[Language, Mapping[str, Any]], str] | None = None
    betas: tuple[str, ...] = ()
    offered_to: Callable[[ModelId], bool] | None = None
    serial: bool = False
    chat_action: Callable[[Mapping[str, Any], Sequence[FileNote]], ChatAction] | None = None

    def offered(self, model: ModelId) -> bool:
        """Offered to ``model``: what it can use (the registry's capabilities: Claude server
        tools only on Claude, client tools where it calls functions), then ``offered_to``."""
        spec = model_spec(model)
        if not (spec.server_tools if self.server else spec.tools):
            return False
        return self.offered_to is None or self.offered_to(model)

    def __post_init__(self) -> None:
        if self.server and self.api_definition is None:
            raise ValueError(f"server tool {self.name!r} needs its api_definition")
        if not self.server and self.run is None:
            raise ValueError(f"client tool {self.name!r} needs an executor (run)")
        if self.timeout <= 0:
            raise ValueError(f"tool {self.name!r}: timeout must be positive")

    def definition(self) -> dict[str, Any]:
        """The tool's entry in the Messages API ``tools`` list (a fresh dict)."""
        if self.server:
            assert self.api_definition is not None
            return {"name": self.name, **dict(self.api_definition)}
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": dict(self.input_schema),
        }

    def status_line(self, language: Language, tool_input: Mapping[str, Any]) -> str:
        """The line shown while it runs, in the user's language."""
        if self.status is not None:
            return self.status(language, tool_input)
        return say(language, "status.using", name=self.name)


def history_files(history: Sequence[HistoryItem]) -> tuple[FileNote, ...]:
    """Every attachment of the conversation, oldest first."""
    return tuple(note for item in history for note in item.files)


def thread_files(state: ThreadState) -> tuple[FileNote, ...]:
    """Every file of the conversation: the attachments, then the files tools made."""
    return (*history_files(state.history), *state.generated)
