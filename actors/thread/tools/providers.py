"""The provider ports of the tools that run outside Claude: a code sandbox (E2B), image
generation (Gemini), speech to text (Whisper), a TeX renderer, and delivery to the chat.

Pure declarations: the adapters live in ``infra/tools/`` and translate every SDK or
transport failure into :class:`~actors.thread.tools.base.ToolFailure` (``timeout``,
``rate_limited``, ``provider_error``, ``unavailable``...), so a tool module never sees one.
A failed provider call consumed nothing the user pays for: the failure carries no
quantities. :data:`UNAVAILABLE` is what a thread worker without a provider's key wires in:
the tool then tells the model the capability is not configured, and the turn goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, Protocol, TypeAlias

from actors.thread.progress import ChatAction as ChatAction
from actors.thread.tools.failure import ToolFailure

DeliverAs: TypeAlias = Literal["photo", "document"]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file put into the sandbox before the code runs (``name`` relative to its home)."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutputFile:
    """A file the code wrote (new or changed during this run), collected from the sandbox."""

    path: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file the code wrote that was not collected, and why (too big, too many)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class SandboxRun:
    """One ``execute_python`` run: output, result, error and the files written.

    ``error`` is the code's own uncaught exception (``Name: value`` and the traceback's
    tail): the run itself worked and is charged. ``seconds`` is the sandbox time the run
    used (creation or warm reuse, uploads, installs, the code, the file scan), whole seconds.
    """

    sandbox_id: str
    stdout: str
    stderr: str
    result: str | None
    error: str | None
    files: tuple[OutputFile, ...]
    skipped: tuple[SkippedFile, ...]
    seconds: Decimal
    installed: tuple[str, ...] = ()
    reused: bool = False


class SandboxPort(Protocol):
    """One warm sandbox per thread (``key``), created on first use, closed when idle."""

    async def run(
        self,
        key: str,
        code: str,
        *,
        packages: Sequence[str],
        uploads: Sequence[Upload],
        timeout: float,
    ) -> SandboxRun: ...


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image a model drew: bytes, type, pixel size and the model that drew it."""

    data: bytes
    mime_type: str
    width: int
    height: int
    model: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    data: bytes
    mime_type: str


class ImagePort(Protocol):
    """Image generation; ``size`` is one of ``512``, ``1K``, ``2K``, ``4K``."""

    async def generate(
        self,
        prompt: str,
        *,
        aspect_ratio: str,
        size: str,
        references: Sequence[ReferenceImage],
    ) -> GeneratedImage: ...


@dataclass(frozen=True, slots=True)
class Transcription:
    text: str
    seconds: Decimal
    language: str | None = None


class SpeechPort(Protocol):
    """Speech to text (audio files, the sound of a video)."""

    async def transcribe(
        self, data: bytes, file_name: str, *, language: str | None = None
    ) -> Transcription: ...


class LatexPort(Protocol):
    """LaTeX to PNG with no shell escape and a time limit; raises ``unavailable`` when no
    TeX engine is installed."""

    async def render(self, source: str, *, dpi: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Delivered:
    message_id: int
    sent_as: DeliverAs
    telegram_file_id: str | None = None


class DeliveryPort(Protocol):
    """Sending a file of the thread into its chat (with the matching chat action first)."""

    async def send(
        self,
        chat_id: int,
        thread_id: int | None,
        *,
        data: bytes,
        file_name: str,
        sent_as: DeliverAs,
        caption: str | None,
    ) -> Delivered: ...


@dataclass(frozen=True, slots=True)
class Providers:
    """The provider ports a tool context carries (each may be :class:`Unavailable`)."""

    sandbox: SandboxPort
    images: ImagePort
    speech: SpeechPort
    latex: LatexPort
    delivery: DeliveryPort


class Unavailable:
    """Every provider port, answering that the capability is not configured here."""

    def __init__(self, why: str = "it is not configured on this server") -> None:
        self.why = why

    def _refuse(self, what: str) -> ToolFailure:
        return ToolFailure("unavailable", f"{what} is not available: {self.why}")

    async def run(
        self,
        key: str,
        code: str,
        *,
        packages: Sequence[str],
        uploads: Sequence[Upload],
        timeout: float,
    ) -> SandboxRun:
        raise self._refuse("running code")

    async def generate(
        self,
        prompt: str,
        *,
        aspect_ratio: str,
        size: str,
        references: Sequence[ReferenceImage],
    ) -> GeneratedImage:
        raise self._refuse("image generation")

    async def transcribe(
        self, data: bytes, file_name: str, *, language: str | None = None
    ) -> Transcription:
        raise self._refuse("transcription")

    async def render(self, source: str, *, dpi: int) -> bytes:
        raise self._refuse("LaTeX rendering")

    async def send(
        self,
        chat_id: int,
        thread_id: int | None,
        *,
        data: bytes,
        file_name: str,
        sent_as: DeliverAs,
        caption: str | None,
    ) -> Delivered:
        raise self._refuse("sending files")


UNAVAILABLE: Final = Providers(
    sandbox=Unavailable("no E2B_API_KEY is set"),
    images=Unavailable("no GOOGLE_API_KEY is set"),
    speech=Unavailable("no OPENAI_API_KEY is set"),
    latex=Unavailable("no TeX engine is installed"),
    delivery=Unavailable("no chat to send to"),
)
"""Providers of a context whose worker wired none (tests of other tools, bare runtimes)."""
