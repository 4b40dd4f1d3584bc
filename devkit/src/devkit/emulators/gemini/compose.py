"""Turning a reply into Gemini response bodies: one for generateContent, a list of chunks for
streamGenerateContent, with usageMetadata as the API reports it."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from .png import png_bytes
from .request import estimate_tokens, last_user_text, prompt_tokens, wants_thoughts
from .scripts import FunctionCallPart, ImagePart, Part, Reply, TextPart


def is_image_model(model: str) -> bool:
    return "image" in model


def signs_calls(model: str) -> bool:
    """Gemini 3 chat models sign the first function call of each response and require the
    signature back with it."""
    return model.startswith("gemini-3") and not is_image_model(model)


def signed(reply: Reply, model: str, response_id: str) -> Reply:
    """``reply`` with its first function call signed, as a Gemini 3 model answers."""
    if not signs_calls(model):
        return reply
    parts = list(reply.parts)
    for i, part in enumerate(parts):
        if isinstance(part, FunctionCallPart):
            if not part.thought_signature:
                token = f"emulated-signature:{response_id}:{part.name}".encode()
                parts[i] = msgspec.structs.replace(
                    part, thought_signature=base64.b64encode(token).decode()
                )
            break
    return msgspec.structs.replace(reply, parts=parts)


def default_parts(model: str, body: Any) -> list[Part]:
    """What an unscripted request gets: an image (image models) or an echo of the prompt."""
    prompt = last_user_text(body)
    if is_image_model(model):
        return [TextPart(text="Here is the image you asked for."), ImagePart()]
    parts: list[Part] = []
    if wants_thoughts(body):
        parts.append(TextPart(text=f"Considering: {prompt[:200]}", thought=True))
    parts.append(TextPart(text=f"Emulated Gemini reply to: {prompt[:200]}"))
    return parts


def wire_part(part: Part, body: Any, dimensions: tuple[int, int]) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"text": part.text, "thought": True} if part.thought else {"text": part.text}
    if isinstance(part, FunctionCallPart):
        call: dict[str, Any] = {"name": part.name, "args": part.args}
        if part.id:
            call["id"] = part.id
        wire: dict[str, Any] = {"functionCall": call}
        if part.thought_signature:
            wire["thoughtSignature"] = part.thought_signature
        return wire
    data = part.data_b64 or base64.b64encode(png_bytes(*dimensions)).decode()
    return {"inlineData": {"mimeType": part.mime_type, "data": data}}


def visible_parts(reply: Reply, body: Any) -> list[Part]:
    """Thought parts only reach a client that asked for them (includeThoughts)."""
    keep_thoughts = wants_thoughts(body)
    return [p for p in reply.parts if not (isinstance(p, TextPart) and p.thought) or keep_thoughts]


def usage_metadata(reply: Reply, body: Any, *, final: bool = True) -> dict[str, Any]:
    prompt = reply.usage.prompt_tokens or prompt_tokens(body)
    thoughts = reply.usage.thoughts_tokens
    if thoughts is None:
        thought_text = "".join(p.text for p in reply.parts if isinstance(p, TextPart) and p.thought)
        thoughts = estimate_tokens(thought_text)
    candidates = reply.usage.candidates_tokens
    if candidates is None:
        candidates = sum(_part_tokens(p) for p in reply.parts)
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if reply.usage.cached_tokens:
        usage["cachedContentTokenCount"] = reply.usage.cached_tokens
    if final:
        usage["candidatesTokenCount"] = candidates
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        usage["totalTokenCount"] = prompt + candidates + thoughts
    else:
        usage["totalTokenCount"] = prompt
    return usage


def _part_tokens(part: Part) -> int:
    if isinstance(part, TextPart):
        return 0 if part.thought else estimate_tokens(part.text)
    if isinstance(part, ImagePart):
        return 1290  # what Gemini image models report per image
    return estimate_tokens(part.name) + estimate_tokens(str(part.args))


def response_body(
    reply: Reply, body: Any, model: str, response_id: str, dimensions: tuple[int, int]
) -> dict[str, Any]:
    parts = [wire_part(p, body, dimensions) for p in visible_parts(reply, body)]
    return _envelope(parts, reply.finish_reason, usage_metadata(reply, body), model, response_id)


def stream_bodies(
    reply: Reply, body: Any, model: str, response_id: str, dimensions: tuple[int, int]
) -> list[dict[str, Any]]:
    """Thoughts first, text in chunks of a few words, each function call or image on its own;
    the last chunk carries finishReason and the full usage."""
    wire: list[dict[str, Any]] = []
    for part in visible_parts(reply, body):
        if isinstance(part, TextPart):
            for piece in _pieces(part.text):
                wire.append(wire_part(TextPart(text=piece, thought=part.thought), body, dimensions))
        else:
            wire.append(wire_part(part, body, dimensions))
    wire = wire or [{"text": ""}]
    partial = usage_metadata(reply, body, final=False)
    bodies = [_envelope([p], None, partial, model, response_id) for p in wire]
    bodies[-1] = _envelope(
        [wire[-1]], reply.finish_reason, usage_metadata(reply, body), model, response_id
    )
    return bodies


def _pieces(text: str, words: int = 4) -> list[str]:
    tokens = text.split(" ")
    pieces = [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    return [p + " " if i < len(pieces) - 1 else p for i, p in enumerate(pieces)]


def _envelope(
    parts: list[dict[str, Any]],
    finish_reason: str | None,
    usage: dict[str, Any],
    model: str,
    response_id: str,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": response_id,
    }
