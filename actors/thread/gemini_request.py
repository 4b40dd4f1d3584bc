"""A turn's request (the Messages API shape :func:`actors.thread.context.build_request` makes)
as a Gemini ``generateContent`` request: plain dicts the google-genai SDK accepts.

The turn keeps one request and content shape for every provider; the Gemini adapter
translates at its boundary:

* ``system`` -> ``system_instruction``; ``user``/``assistant`` -> ``user``/``model`` contents;
* text -> text parts; an inline (base64) image or PDF -> ``inline_data``; a Files API file,
  which Gemini cannot read, -> a short note;
* ``tool_use`` -> ``function_call`` (id, name, args); ``tool_result`` -> ``function_response``
  (``{"output": ...}`` or ``{"error": ...}``) with its images after it;
* a step's thinking and every part's thought signature (kept under :data:`SIGNATURE`) go back
  as Gemini sent them, as Gemini 3 requires within a turn;
* client tools -> ``function_declarations`` from their JSON Schemas (server tools are Claude's
  and are never offered to Gemini); ``tool_choice: none`` -> mode ``NONE``;
* ``max_tokens`` -> ``max_output_tokens``; adaptive thinking at an effort -> ``thinking_level``
  with thought summaries; a fixed budget -> ``thinking_budget``; no thinking -> the model's
  lowest level (:attr:`ModelSpec.min_thinking_level`) without summaries.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final

from actors.thread.models import model_spec

SIGNATURE: Final = "gemini_thought_signature"
"""Key of a content block holding the thought signature (base64) Gemini gave its part."""
EFFORT_LEVELS: Final = {"low": "low", "medium": "medium", "high": "high", "max": "high"}
UNREADABLE_FILE: Final = "[a file this model cannot read was attached here]"

Part = dict[str, Any]


def _signed(part: Part, block: Mapping[str, Any]) -> Part:
    signature = block.get(SIGNATURE)
    if signature:
        part["thought_signature"] = base64.b64decode(str(signature))
    return part


def _inline(source: Mapping[str, Any]) -> Part | None:
    if source.get("type") != "base64":
        return None
    data = base64.b64decode(str(source.get("data", "")))
    return {"inline_data": {"mime_type": str(source.get("media_type", "")), "data": data}}


def _file_part(block: Mapping[str, Any]) -> Part:
    source = block.get("source") or {}
    if source.get("type") == "text":
        return {"text": str(source.get("data", ""))}
    return _inline(source) or {"text": UNREADABLE_FILE}


def _result_parts(block: Mapping[str, Any], names: Mapping[str, str]) -> list[Part]:
    raw = block.get("content")
    items = raw if isinstance(raw, list) else [{"type": "text", "text": str(raw or "")}]
    text = "\n".join(str(i.get("text", "")) for i in items if i.get("type") == "text")
    key = "error" if block.get("is_error") else "output"
    call_id = str(block.get("tool_use_id", ""))
    response = {"id": call_id, "name": names.get(call_id, ""), "response": {key: text}}
    parts: list[Part] = [{"function_response": response}]
    parts.extend(p for i in items if i.get("type") != "text" for p in [_file_part(i)])
    return parts


def _parts(block: Mapping[str, Any], names: dict[str, str]) -> list[Part]:
    kind = block.get("type")
    if kind == "text":
        text = str(block.get("text", ""))
        return [_signed({"text": text}, block)] if text or block.get(SIGNATURE) else []
    if kind == "thinking":
        return [_signed({"text": str(block.get("thinking", "")), "thought": True}, block)]
    if kind == "tool_use":
        call_id, name = str(block.get("id", "")), str(block.get("name", ""))
        names[call_id] = name
        call = {"id": call_id, "name": name, "args": dict(block.get("input") or {})}
        return [_signed({"function_call": call}, block)]
    if kind == "tool_result":
        return _result_parts(block, names)
    if kind in ("image", "document"):
        return [_file_part(block)]
    return []  # Claude's server tool blocks never reach a Gemini conversation


def gemini_contents(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as Gemini contents (same-role neighbours merged, empty ones left
    out)."""
    names: dict[str, str] = {}
    contents: list[dict[str, Any]] = []
    for message in messages:
        role = "model" if message.get("role") == "assistant" else "user"
        raw = message.get("content")
        blocks = raw if isinstance(raw, list) else [{"type": "text", "text": str(raw or "")}]
        parts = [p for block in blocks for p in _parts(block, names)]
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    return "\n\n".join(str(b.get("text", "")) for b in system or () if b.get("type") == "text")


def _thinking(model: str, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    thinking = kwargs.get("thinking") or {}
    if thinking.get("type") == "adaptive":
        effort = str((kwargs.get("output_config") or {}).get("effort", "high"))
        return {"thinking_level": EFFORT_LEVELS.get(effort, "high"), "include_thoughts": True}
    if thinking.get("type") == "enabled":
        return {"thinking_budget": int(thinking.get("budget_tokens", 0)), "include_thoughts": True}
    floor = model_spec(model).min_thinking_level
    return {"thinking_level": floor, "include_thoughts": False} if floor else None


def function_declarations(tools: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Client tools as Gemini function declarations (server tools have no schema: left out)."""
    return [
        {
            "name": str(tool["name"]),
            "description": str(tool.get("description", "")),
            "parameters_json_schema": dict(tool["input_schema"]),
        }
        for tool in tools
        if "input_schema" in tool
    ]


def gemini_request(kwargs: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """``(model, contents, config)`` for ``generate_content_stream`` from a turn's request."""
    model = str(kwargs["model"])
    config: dict[str, Any] = {"max_output_tokens": int(kwargs.get("max_tokens", 0)) or None}
    system = _system_text(kwargs.get("system"))
    if system:
        config["system_instruction"] = system
    thinking = _thinking(model, kwargs)
    if thinking is not None:
        config["thinking_config"] = thinking
    declarations = function_declarations(kwargs.get("tools") or ())
    if declarations:
        config["tools"] = [{"function_declarations": declarations}]
        if (kwargs.get("tool_choice") or {}).get("type") == "none":
            config["tool_config"] = {"function_calling_config": {"mode": "NONE"}}
    return model, gemini_contents(kwargs.get("messages") or ()), config
