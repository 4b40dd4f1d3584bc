"""Reading a generateContent request body (the SDK sends camelCase; snake_case is accepted
too, as the API does)."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any


def field(obj: Any, camel: str) -> Any:
    """obj[camel] or obj[snake_case(camel)] (None when absent or obj is no dict)."""
    if not isinstance(obj, dict):
        return None
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake)


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image sent inline in the request (a reference image for an edit)."""

    mime_type: str
    data: bytes


def _parts(body: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for content in field(body, "contents") or []:
        role = str(field(content, "role") or "user")
        for part in field(content, "parts") or []:
            if isinstance(part, dict):
                found.append((role, part))
    return found


def last_user_text(body: Any) -> str:
    texts = [
        str(field(p, "text")) for role, p in _parts(body) if role == "user" and field(p, "text")
    ]
    return texts[-1] if texts else ""


def inline_images(body: Any) -> list[InlineImage]:
    images = []
    for _, part in _parts(body):
        inline = field(part, "inlineData")
        mime = str(field(inline, "mimeType") or "")
        if mime.startswith("image/"):
            images.append(InlineImage(mime, decode_b64(str(field(inline, "data") or ""))))
    return images


def inline_files(body: Any) -> list[InlineImage]:
    """Every inline part of a request (images, PDFs...), in order."""
    found = []
    for _, part in _parts(body):
        inline = field(part, "inlineData")
        if inline is not None:
            mime = str(field(inline, "mimeType") or "")
            found.append(InlineImage(mime, decode_b64(str(field(inline, "data") or ""))))
    return found


def decode_b64(text: str) -> bytes:
    """Standard or URL-safe base64 (the SDK sends the latter), padded or not, as the API reads."""
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def generation_config(body: Any) -> dict[str, Any]:
    config = field(body, "generationConfig")
    return config if isinstance(config, dict) else {}


def wants_thoughts(body: Any) -> bool:
    return bool(field(field(generation_config(body), "thinkingConfig"), "includeThoughts"))


def image_config(body: Any) -> tuple[str, str]:
    """(aspect ratio, image size) asked for, with Gemini's defaults 1:1 and 1K."""
    config = field(generation_config(body), "imageConfig")
    ratio = field(config, "aspectRatio") or "1:1"
    size = field(config, "imageSize") or "1K"
    return str(ratio), str(size)


def declared_functions(body: Any) -> list[str]:
    names = []
    for tool in field(body, "tools") or []:
        for declaration in field(tool, "functionDeclarations") or []:
            names.append(str(field(declaration, "name")))
    return names


def history_error(body: Any, model: str) -> str | None:
    """What the API refuses in the conversation sent: a function response without a name,
    or (Gemini 3) a response's first function call sent back without its thought signature."""
    for content in field(body, "contents") or []:
        parts = [p for p in field(content, "parts") or [] if isinstance(p, dict)]
        calls = [p for p in parts if field(p, "functionCall") is not None]
        signed = model.startswith("gemini-3") and "image" not in model
        if signed and calls and not field(calls[0], "thoughtSignature"):
            return (
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly."
            )
        for part in parts:
            response = field(part, "functionResponse")
            if response is not None and not field(response, "name"):
                return "* GenerateContentRequest.contents: function_response.name: Name is empty."
    return None


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def prompt_tokens(body: Any) -> int:
    """About 4 characters a token for text, 258 tokens an inline image (Gemini's tile)."""
    total = 0
    for _, part in _parts(body):
        if field(part, "text"):
            total += estimate_tokens(str(field(part, "text")))
        elif field(part, "inlineData"):
            total += 258
    system = field(body, "systemInstruction")
    for part in field(system, "parts") or []:
        total += estimate_tokens(str(field(part, "text") or ""))
    return max(total, 1)
