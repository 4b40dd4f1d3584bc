"""The Messages API's request rules the emulator enforces, with the API's own error texts.

:func:`check_request` raises :class:`RuleViolation` (answered as HTTP 400
``invalid_request_error``) for: tools that do not validate (name pattern, unique names, an
``input_schema`` that is not a JSON Schema object); more than 4 cache_control breakpoints or a
1h breakpoint after a 5m one; a tool_result whose tool_use is not in the previous assistant
message; tool_use ids left without a tool_result in the next message; a server tool result
without its server_tool_use; thinking blocks whose signature (redacted_thinking: data) was
not issued for that text; and, with thinking on, the latest assistant message of a tool loop
whose issued thinking blocks were dropped or changed; thinking with a tool_choice that
forces a tool.

:class:`Thoughts` remembers what the emulator issued: each signature with its thinking text,
each redacted data, and for each tool_use id the thinking blocks its response began with.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from .rules import redacted_data_valid, signature_for

MAX_BREAKPOINTS: Final = 4
TOOL_NAME: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
VERSIONED_TOOL_TYPE: Final = re.compile(r"^[a-z_]+_\d{8}$")
NAMED_AS_TYPE: Final = ("web_search", "web_fetch", "code_execution")
"""Versioned tool types whose name must be the type without its date."""
SERVER_RESULTS: Final = ("web_search_tool_result", "web_fetch_tool_result")
THINKING_KINDS: Final = ("thinking", "redacted_thinking")
JSON_TYPES: Final = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
SCHEMA_MAPS: Final = ("properties", "$defs", "definitions", "patternProperties")
SCHEMA_LISTS: Final = ("anyOf", "oneOf", "allOf", "prefixItems")
SCHEMA_ONE: Final = ("items", "additionalProperties", "not", "contains", "propertyNames")
INVALID_SCHEMA: Final = (
    "JSON schema is invalid. It must match JSON Schema draft 2020-12 "
    "(https://json-schema.org/draft/2020-12). Learn more about tool use at "
    "https://docs.claude.com/en/docs/tool-use."
)
THINKING_FIRST: Final = (
    "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
    "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you "
    "include thinking blocks from previous turns. To avoid this requirement, disable "
    "`thinking`. Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)
MODIFIED: Final = (
    "`thinking` or `redacted_thinking` blocks in the latest assistant message cannot be "
    "modified. These blocks must remain as they were in the original response."
)


class RuleViolation(ValueError):
    """A request the API refuses with 400 invalid_request_error; the message is the API's."""


Thought = tuple[str, str]  # (thinking | redacted_thinking, signature | data)


@dataclass
class Thoughts:
    """What the emulator issued, to tell a thinking block sent back unchanged."""

    signatures: dict[str, str] = field(default_factory=dict)  # signature -> thinking
    redacted: set[str] = field(default_factory=set)
    by_tool_use: dict[str, tuple[Thought, ...]] = field(default_factory=dict)

    def issue(self, content: list[dict[str, Any]]) -> None:
        """Remember the thinking of a response and which tool_use ids it preceded."""
        thoughts: list[Thought] = []
        for block in content:
            kind = block.get("type")
            if kind == "thinking":
                self.signatures[block["signature"]] = block["thinking"]
                thoughts.append(("thinking", block["signature"]))
            elif kind == "redacted_thinking":
                self.redacted.add(block["data"])
                thoughts.append(("redacted_thinking", block["data"]))
            elif kind == "tool_use":
                self.by_tool_use[block["id"]] = tuple(thoughts)

    def problem(self, block: dict[str, Any]) -> str | None:
        """None for a thinking/redacted_thinking block issued and unaltered; "modified" for an
        issued signature with another text; "invalid" for a signature never issued."""
        if block.get("type") == "redacted_thinking":
            data = str(block.get("data", ""))
            return None if data in self.redacted or redacted_data_valid(data) else "invalid"
        signature = str(block.get("signature", ""))
        thinking = str(block.get("thinking", ""))
        issued = self.signatures.get(signature)
        if issued is not None:
            return None if issued == thinking else "modified"
        if signature.startswith("EmuSig"):
            return None if signature == signature_for(thinking) else "modified"
        return "invalid"


def check_request(body: dict[str, Any], thoughts: Thoughts) -> None:
    """Raise RuleViolation when the request breaks one of the API's rules (module doc)."""
    check_tools(body.get("tools"))
    check_cache_controls(body)
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    for index, message in enumerate(messages):
        if message.get("role") == "user":
            _check_tool_results(messages, index)
        else:
            _check_assistant(messages, index, thoughts)
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
            raise RuleViolation("Thinking may not be enabled when tool_choice forces tool use.")
        _check_loop_thinking(messages, thoughts)


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict)]


def _ids(blocks: list[dict[str, Any]], kind: str, key: str = "id") -> list[str]:
    return [str(b.get(key, "")) for b in blocks if b.get("type") == kind]


def _check_tool_results(messages: list[dict[str, Any]], index: int) -> None:
    previous = messages[index - 1] if index > 0 else None
    offered = (
        set(_ids(_blocks(previous), "tool_use"))
        if previous is not None and previous.get("role") == "assistant"
        else set()
    )
    for j, block in enumerate(_blocks(messages[index])):
        if block.get("type") == "tool_result" and block.get("tool_use_id") not in offered:
            raise RuleViolation(
                f"messages.{index}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                "corresponding `tool_use` block in the previous message."
            )


def _check_assistant(messages: list[dict[str, Any]], index: int, thoughts: Thoughts) -> None:
    blocks = _blocks(messages[index])
    uses = _ids(blocks, "tool_use")
    if uses:
        following = messages[index + 1] if index + 1 < len(messages) else None
        answered = (
            set(_ids(_blocks(following), "tool_result", "tool_use_id"))
            if following is not None and following.get("role") == "user"
            else set()
        )
        missing = [u for u in uses if u not in answered]
        if missing:
            raise RuleViolation(
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
    server_uses = _server_uses_before(messages, index)
    latest = all(m.get("role") != "assistant" for m in messages[index + 1 :])
    for j, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "server_tool_use":
            server_uses.add(str(block.get("id", "")))
        elif kind in SERVER_RESULTS and block.get("tool_use_id") not in server_uses:
            raise RuleViolation(
                f"messages.{index}.content.{j}: unexpected `tool_use_id` found in `{kind}` "
                f"blocks: {block.get('tool_use_id')}. Each `{kind}` block must have a "
                "corresponding `server_tool_use` block before it."
            )
        elif kind in THINKING_KINDS and (problem := thoughts.problem(block)) is not None:
            where = f"messages.{index}.content.{j}"
            if problem == "modified" and latest:
                raise RuleViolation(f"{where}: {MODIFIED}")
            raise RuleViolation(f"{where}: Invalid `signature` in `{kind}` block")


def _server_uses_before(messages: list[dict[str, Any]], index: int) -> set[str]:
    """server_tool_use ids of the assistant messages right before ``index`` (consecutive
    assistant messages are one turn: a paused answer and its continuation)."""
    uses: set[str] = set()
    start = index
    while start > 0 and messages[start - 1].get("role") == "assistant":
        start -= 1
        uses.update(_ids(_blocks(messages[start]), "server_tool_use"))
    return uses


def _check_loop_thinking(messages: list[dict[str, Any]], thoughts: Thoughts) -> None:
    """In a tool loop (the last message answers tool uses), the latest assistant message
    must still begin with the thinking blocks its tool uses came with."""
    if len(messages) < 2 or not _ids(_blocks(messages[-1]), "tool_result", "tool_use_id"):
        return
    index = len(messages) - 2
    if messages[index].get("role") != "assistant":
        return
    start = index
    while start > 0 and messages[start - 1].get("role") == "assistant":
        start -= 1  # consecutive assistant messages (a pause_turn continuation) are one
    blocks = [b for m in messages[start : index + 1] for b in _blocks(m)]
    expected: tuple[Thought, ...] = ()
    for use in _ids(blocks, "tool_use"):
        expected = expected or thoughts.by_tool_use.get(use, ())
    if not expected:
        return
    sent = [
        (str(b["type"]), str(b.get("signature") if b["type"] == "thinking" else b.get("data")))
        for b in blocks
        if b.get("type") in THINKING_KINDS
    ]
    first = blocks[0].get("type") if blocks else "nothing"
    if first not in THINKING_KINDS:
        raise RuleViolation(
            f"messages.{start}.content.0.type: Expected `thinking` or `redacted_thinking`, "
            f"but found `{first}`. {THINKING_FIRST}"
        )
    if any(thought not in sent for thought in expected):
        raise RuleViolation(f"messages.{start}.content.0: {MODIFIED}")


def check_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise RuleViolation("tools: Input should be a valid list")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise RuleViolation(f"tools.{i}: Input should be a valid dictionary")
        kind = tool.get("type")
        name = str(tool.get("name", ""))
        if kind in (None, "custom"):
            _check_custom_tool(i, tool)
        elif not isinstance(kind, str) or not VERSIONED_TOOL_TYPE.match(kind):
            raise RuleViolation(
                f"tools.{i}: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags"
            )
        elif kind.rsplit("_", 1)[0] in NAMED_AS_TYPE and name != kind.rsplit("_", 1)[0]:
            raise RuleViolation(
                f"tools.{i}.{kind}.name: Input should be '{kind.rsplit('_', 1)[0]}'"
            )
        if name in names:
            raise RuleViolation("tools: Tool names must be unique.")
        names.add(name)


def _check_custom_tool(i: int, tool: dict[str, Any]) -> None:
    if not TOOL_NAME.match(str(tool.get("name", ""))):
        raise RuleViolation(
            f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        )
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise RuleViolation(f"tools.{i}.custom.input_schema: Field required")
    if schema.get("type") != "object":
        raise RuleViolation(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
    if not schema_is_valid(schema):
        raise RuleViolation(f"tools.{i}.custom.input_schema: {INVALID_SCHEMA}")


def schema_is_valid(schema: Any) -> bool:
    """A structural check of a JSON Schema (draft 2020-12) document: the keywords a tool
    schema uses have the shapes the meta-schema requires."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    if not all(isinstance(k, str) and k in JSON_TYPES for k in kinds):
        return False
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return False
    if len(set(required)) != len(required):
        return False
    if "enum" in schema and not isinstance(schema["enum"], list):
        return False
    for key in ("description", "title", "pattern", "format"):
        if key in schema and not isinstance(schema[key], str):
            return False
    return all(schema_is_valid(sub) for sub in _subschemas(schema))


def _subschemas(schema: dict[str, Any]) -> Iterator[Any]:
    for key in SCHEMA_MAPS:
        if key in schema:
            value = schema[key]
            if not isinstance(value, dict):
                yield None  # invalid
                continue
            yield from value.values()
    for key in SCHEMA_LISTS:
        if key in schema:
            value = schema[key]
            if not isinstance(value, list) or not value:
                yield None
                continue
            yield from value
    for key in SCHEMA_ONE:
        if key in schema:
            yield schema[key]


def _marked(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, cache_control) of every breakpoint, in the API's order: tools, system, messages."""
    for i, tool in enumerate(body.get("tools") or []):
        if isinstance(tool, dict) and isinstance(tool.get("cache_control"), dict):
            yield f"tools.{i}", tool["cache_control"]
    system = body.get("system")
    for i, block in enumerate(system if isinstance(system, list) else []):
        if isinstance(block, dict) and isinstance(block.get("cache_control"), dict):
            yield f"system.{i}", block["cache_control"]
    for i, message in enumerate(body.get("messages") or []):
        for j, block in enumerate(_blocks(message) if isinstance(message, dict) else []):
            if isinstance(block.get("cache_control"), dict):
                yield f"messages.{i}.content.{j}", block["cache_control"]


def check_cache_controls(body: dict[str, Any]) -> None:
    marks = list(_marked(body))
    if len(marks) > MAX_BREAKPOINTS:
        raise RuleViolation(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(marks)}."
        )
    seen_short = False
    for path, control in marks:
        ttl = control.get("ttl", "5m")
        if ttl not in ("5m", "1h"):
            raise RuleViolation(f"{path}.cache_control.ttl: Input should be '5m' or '1h'")
        if ttl == "1h" and seen_short:
            raise RuleViolation(
                f"{path}.cache_control.ttl: a ttl='1h' cache_control block must not come after "
                "a ttl='5m' cache_control block. Note that blocks are processed in the "
                "following order: `tools`, `system`, `messages`."
            )
        seen_short = seen_short or ttl == "5m"
