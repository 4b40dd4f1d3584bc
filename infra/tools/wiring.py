"""The provider ports a thread worker gives its tools, from the settings: E2B when
``E2B_API_KEY`` is set, Gemini images when ``GOOGLE_API_KEY`` is, Whisper when the file
services have it (``OPENAI_API_KEY``), the TeX renderer always (it says when no engine is
installed), delivery through the worker's bot. A port without its key answers
``unavailable`` with the setting to give, and the turn goes on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from actors.thread.tools.providers import (
    ImagePort,
    Providers,
    SandboxPort,
    SpeechPort,
    Unavailable,
)
from infra.settings import Settings
from infra.tools.latex import LatexRenderer
from infra.tools.telegram_delivery import TelegramDelivery

if TYPE_CHECKING:
    from aiogram import Bot

    from infra.files.transcription import WhisperTranscriber


@dataclass(slots=True)
class ToolProviders:
    providers: Providers
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


def build_providers(
    settings: Settings, bot: Bot, transcriber: WhisperTranscriber | None
) -> ToolProviders:
    closers: list[Callable[[], Awaitable[None]]] = []
    sandbox: SandboxPort = Unavailable("no E2B_API_KEY is set on this server")
    # Each provider's SDK is imported only when its key is set: e2b, google-genai and openai
    # together cost a worker about a third of its start-up imports.
    if settings.e2b_api_key is not None:
        from infra.tools.e2b_sandbox import E2BConfig, E2BSandboxes

        api_url = settings.e2b_api_url
        pool = E2BSandboxes(
            E2BConfig(
                api_key=settings.e2b_api_key.reveal(),
                api_url=api_url,
                sandbox_url=settings.e2b_sandbox_url,
                http_version="1.1" if api_url and api_url.startswith("http://") else None,
                template=settings.e2b_template,
                idle_timeout=settings.sandbox_idle_timeout,
            )
        )
        sandbox = pool
        closers.append(pool.close)
    images: ImagePort = Unavailable("no GOOGLE_API_KEY is set on this server")
    if settings.google_api_key is not None:
        from infra.tools.gemini_images import GeminiImageConfig, GeminiImages

        gemini = GeminiImages(
            GeminiImageConfig(
                api_key=settings.google_api_key.reveal(),
                base_url=settings.google_gemini_base_url,
                model=settings.gemini_image_model,
                timeout=settings.gemini_image_timeout,
                attempts=settings.gemini_image_attempts,
            )
        )
        images = gemini
        closers.append(gemini.close)
    speech: SpeechPort = Unavailable("no OPENAI_API_KEY (or no file store) is set on this server")
    if transcriber is not None:
        from infra.tools.speech import WhisperSpeech

        speech = WhisperSpeech(transcriber)
    latex = LatexRenderer(bin_dir=settings.latex_bin_dir, timeout=settings.latex_timeout)
    providers = Providers(
        sandbox=sandbox,
        images=images,
        speech=speech,
        latex=latex,
        delivery=TelegramDelivery(bot),
    )
    return ToolProviders(providers, closers)
