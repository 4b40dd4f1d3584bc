"""A turn's Messages-shaped request as a Gemini request: roles, files, tool results (errors
too), the last step's tools switched off, thinking by level or budget."""

from __future__ import annotations

import base64

from actors.thread.gemini_request import UNREADABLE_FILE, gemini_request
from actors.thread.models import GEMINI_FLASH, GEMINI_FLASH_LITE

PNG = base64.b64encode(b"\x89PNG-bytes").decode()


def test_roles_files_and_a_failed_tool_result() -> None:
    """Assistant turns are "model"; an inline image becomes inline_data, a Files API file a
    note; a failed tool result is a functionResponse with an error, named after its call."""
    kwargs = {
        "model": GEMINI_FLASH,
        "max_tokens": 8192,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": PNG}},
                {"type": "document", "source": {"type": "file", "file_id": "f1"}},
                {"type": "text", "text": "what is this?"},
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "c1", "name": "preview_file", "input": {"id": "x"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "c1", "is_error": True,
                 "content": [{"type": "text", "text": "not found"}]},
            ]},
        ],
        "tools": [{"name": "preview_file", "description": "d", "input_schema": {"type": "object"}},
                  {"name": "web_search", "type": "web_search_20250305", "max_uses": 8}],
        "tool_choice": {"type": "none"},
        "betas": ["web-fetch-2025-09-10"],
    }  # fmt: skip
    model, contents, config = gemini_request(kwargs)
    assert model == GEMINI_FLASH
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    image, note, text = contents[0]["parts"]
    assert image == {"inline_data": {"mime_type": "image/png", "data": b"\x89PNG-bytes"}}
    assert note == {"text": UNREADABLE_FILE}
    assert text == {"text": "what is this?"}
    assert contents[2]["parts"] == [
        {"function_response": {"id": "c1", "name": "preview_file",
                               "response": {"error": "not found"}}}
    ]  # fmt: skip
    assert config["system_instruction"] == "Be brief."
    assert [d["name"] for d in config["tools"][0]["function_declarations"]] == ["preview_file"]
    assert config["tool_config"] == {"function_calling_config": {"mode": "NONE"}}
    assert config["max_output_tokens"] == 8192


def test_thinking_by_effort_budget_or_the_models_floor() -> None:
    base = {"model": GEMINI_FLASH, "max_tokens": 100, "messages": []}
    adaptive = {**base, "thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}
    budget = {**base, "thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert gemini_request(adaptive)[2]["thinking_config"] == {
        "thinking_level": "high", "include_thoughts": True,
    }  # fmt: skip
    assert gemini_request(budget)[2]["thinking_config"] == {
        "thinking_budget": 2048, "include_thoughts": True,
    }  # fmt: skip
    off = gemini_request({**base, "model": GEMINI_FLASH_LITE})[2]
    assert off["thinking_config"] == {"thinking_level": "minimal", "include_thoughts": False}
