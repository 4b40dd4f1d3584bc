"""``generate_image`` on Gemini's image model through google-genai (base URL from settings,
the emulator's in tests).

A request asks for text and image output with the aspect ratio and size given, reference
images (edits) inline before the prompt. 5xx answers (503 overloaded first of all) are
retried by the SDK (``attempts`` in all, exponential waits); each attempt has ``timeout``.
What comes back is checked: no image (a filtered prompt, a text-only answer) or an image
over :data:`MAX_IMAGE_BYTES` is a :class:`ToolFailure` with no quantities, so nothing is
charged. SDK and transport errors are translated here: 429 ``rate_limited`` (with Google's
retry delay when it gives one), other 4xx ``invalid_input``, 5xx after the retries
``provider_error``, a timeout ``timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import httpx
from google import genai
from google.genai import errors
from google.genai import types as t

from actors.thread.tools.failure import ToolFailure
from actors.thread.tools.image_info import image_dimensions
from actors.thread.tools.providers import GeneratedImage, ReferenceImage
from infra.settings import DEFAULT_GEMINI_IMAGE_MODEL

log = logging.getLogger(__name__)


MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
RETRIED_STATUSES: Final = (500, 502, 503, 504)


@dataclass(frozen=True, slots=True)
class GeminiImageConfig:
    api_key: str
    base_url: str | None = None
    model: str = DEFAULT_GEMINI_IMAGE_MODEL
    timeout: float = 120.0
    attempts: int = 3
    initial_delay: float = 2.0


class GeminiImages:
    """:class:`~actors.thread.tools.providers.ImagePort` on google-genai."""

    def __init__(self, config: GeminiImageConfig) -> None:
        self.config = config
        retry = t.HttpRetryOptions(
            attempts=max(1, config.attempts),
            initial_delay=config.initial_delay,
            max_delay=max(config.initial_delay, 10.0),
            http_status_codes=list(RETRIED_STATUSES),
        )
        options = t.HttpOptions(
            base_url=config.base_url,
            timeout=int(config.timeout * 1000),
            retry_options=retry,
        )
        self._client = genai.Client(api_key=config.api_key, http_options=options)

    async def close(self) -> None:
        await self._client.aio.aclose()

    async def generate(
        self,
        prompt: str,
        *,
        aspect_ratio: str,
        size: str,
        references: Sequence[ReferenceImage],
    ) -> GeneratedImage:
        contents: list[Any] = [
            t.Part.from_bytes(data=r.data, mime_type=r.mime_type) for r in references
        ]
        contents.append(prompt)
        config = t.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            image_config=t.ImageConfig(aspect_ratio=aspect_ratio, image_size=size),
        )
        try:
            response = await self._client.aio.models.generate_content(
                model=self.config.model, contents=contents, config=config
            )
        except errors.APIError as exc:
            raise _api_failure(exc, self.config.attempts) from exc
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise ToolFailure(
                "timeout", f"Gemini did not answer within {self.config.timeout:g} s"
            ) from exc
        except (httpx.HTTPError, aiohttp.ClientError) as exc:
            raise ToolFailure("provider_error", f"Gemini could not be reached: {exc}") from exc
        return _image_of(response, self.config.model)


def _image_of(response: t.GenerateContentResponse, model: str) -> GeneratedImage:
    text = " ".join(p.text for p in response.parts or [] if p.text and not p.thought).strip()
    for part in response.parts or []:
        blob = part.inline_data
        if blob is None or not blob.data:
            continue
        data = bytes(blob.data)
        if len(data) > MAX_IMAGE_BYTES:
            raise ToolFailure(
                "provider_error",
                f"Gemini returned an image of {len(data) // 2**20} MB, over the "
                f"{MAX_IMAGE_BYTES // 2**20} MB limit; ask for a smaller size",
            )
        mime = blob.mime_type or "image/png"
        width, height = image_dimensions(data)
        return GeneratedImage(
            data=data,
            mime_type=mime,
            width=width,
            height=height,
            model=response.model_version or model,
            text=text,
        )
    reason = ""
    if response.candidates and response.candidates[0].finish_reason is not None:
        reason = f" (finish reason {response.candidates[0].finish_reason})"
    said = f": {text[:300]}" if text else ""
    raise ToolFailure("provider_error", f"Gemini returned no image{reason}{said}")


def _api_failure(exc: errors.APIError, attempts: int) -> ToolFailure:
    code = int(exc.code or 0)
    message = exc.message or str(exc)
    if code == 429:
        delay = _retry_delay(exc)
        wait = f"; retry in {delay}" if delay else ""
        return ToolFailure("rate_limited", f"Gemini's quota is exhausted (429){wait}: {message}")
    if code >= 500:
        return ToolFailure(
            "provider_error",
            f"Gemini failed ({code} {exc.status or ''}) after {attempts} attempts: {message}",
        )
    if code in (401, 403):
        return ToolFailure("unavailable", f"Gemini refused the API key ({code}): {message}")
    return ToolFailure("invalid_input", f"Gemini refused the request ({code}): {message}")


def _retry_delay(exc: errors.APIError) -> str | None:
    details = exc.details if isinstance(exc.details, dict) else {}
    for item in (details.get("error") or {}).get("details") or []:
        if isinstance(item, dict) and item.get("retryDelay"):
            return str(item["retryDelay"])
    return None
