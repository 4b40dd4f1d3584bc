"""The prompt cache of the Claude emulator, modelled on the API's.

A request is a sequence of blocks in the API's order: each tool, each system block, each
block of each message (a string content is one text block). The prefix ending at block *i*
is identified by a running hash of the model and the blocks up to *i*, without their
``cache_control`` markers (moving a breakpoint does not change the prefix). The thinking
setting and tool_choice are part of the messages' prefixes: changing them invalidates the
cached conversation but not the cached tools and system prompt.

- Write: each breakpoint (a block with ``cache_control``; a top-level ``cache_control`` marks
  the last block) writes the prefix ending at its block, unless it is shorter than the
  model's minimum cacheable length, which writes nothing.
- Read: from each breakpoint the cache looks back over at most ``LOOKBACK`` block boundaries
  (the breakpoint's own included) for a prefix written before and still alive; the request
  reads the longest one found. Entries are written only at breakpoints, so a read needs an
  earlier request to have had a breakpoint at that boundary.
- Lifetime: 5 minutes, or an hour with ``ttl: "1h"``; a read refreshes the entry it hits.
- Usage: ``read`` is the prefix read; the tokens after it up to each written breakpoint
  are cache creation, in the TTL of the breakpoint that ends them (the ``cache_creation``
  ephemeral_5m/1h split); what follows the last breakpoint is plain input.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Final

from .tokens import block_chars

LOOKBACK: Final = 20
MINIMUM_TOKENS: Final = {
    # Minimum cacheable prompt length per model (Anthropic prompt-caching docs).
    "claude-sonnet-4-6": 1024,
    "claude-opus-4-6": 4096,
    "claude-haiku-4-5-20251001": 4096,
}
DEFAULT_MINIMUM: Final = 1024
TTL_SECONDS: Final = {"5m": 300.0, "1h": 3600.0}


@dataclass(slots=True)
class CacheOutcome:
    creation_5m: int = 0
    creation_1h: int = 0
    read: int = 0

    @property
    def creation(self) -> int:
        return self.creation_5m + self.creation_1h


@dataclass(slots=True)
class Entry:
    expires: float
    ttl: str


@dataclass(frozen=True, slots=True)
class Position:
    """One block boundary of a request: prefix hash, prefix tokens, and its breakpoint TTL."""

    key: str
    tokens: int
    ttl: str | None


def minimum_for(model: str) -> int:
    return MINIMUM_TOKENS.get(model, DEFAULT_MINIMUM)


@dataclass
class PromptCache:
    """Prompt caching as the API does it (see module docstring). ``minimum_tokens`` set
    overrides the per-model minimum for every model."""

    minimum_tokens: int | None = None
    entries: dict[str, Entry] = field(default_factory=dict)

    def apply(self, body: dict[str, Any], now: float) -> CacheOutcome:
        positions = request_positions(body)
        marks = [i for i, p in enumerate(positions) if p.ttl is not None]
        if not marks:
            return CacheOutcome()
        model = str(body.get("model", ""))
        minimum = self.minimum_tokens if self.minimum_tokens is not None else minimum_for(model)
        hit = self._longest_hit(positions, marks, now)
        outcome = CacheOutcome()
        done = -1
        if hit >= 0:
            entry = self.entries[positions[hit].key]
            entry.expires = now + TTL_SECONDS[entry.ttl]
            outcome.read = positions[hit].tokens
            done = hit
        for mark in marks:
            position = positions[mark]
            if mark <= done or position.tokens < minimum or position.ttl is None:
                continue
            new = position.tokens - (positions[done].tokens if done >= 0 else 0)
            if position.ttl == "1h":
                outcome.creation_1h += new
            else:
                outcome.creation_5m += new
            self.entries[position.key] = Entry(now + TTL_SECONDS[position.ttl], position.ttl)
            done = mark
        return outcome

    def _longest_hit(self, positions: list[Position], marks: list[int], now: float) -> int:
        best = -1
        for mark in marks:
            for index in range(mark, max(-1, mark - LOOKBACK, best), -1):
                entry = self.entries.get(positions[index].key)
                if entry is not None and entry.expires > now:
                    best = max(best, index)
                    break
        return best


def _blocks(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(section, block) in the API's order; string contents become one text block."""
    out: list[tuple[str, Any]] = [("tools", t) for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, list):
        out.extend(("system", b) for b in system)
    elif system:
        out.append(("system", {"type": "text", "text": system}))
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        role = message.get("role")
        if isinstance(content, list):
            out.extend((f"messages:{role}", b) for b in content)
        elif content:
            out.append((f"messages:{role}", {"type": "text", "text": content}))
    return out


def request_positions(body: dict[str, Any]) -> list[Position]:
    """Every block boundary of the request, in order (see module docstring)."""
    digest = hashlib.sha256(str(body.get("model", "")).encode())
    blocks = _blocks(body)
    automatic = body.get("cache_control")
    positions: list[Position] = []
    chars = 0
    salted = False
    for index, (section, block) in enumerate(blocks):
        if section.startswith("messages") and not salted:
            salt = [body.get("thinking"), body.get("tool_choice")]
            digest.update(json.dumps(salt, sort_keys=True, default=str).encode())
            salted = True
        plain = block
        control: Any = None
        if isinstance(block, dict):
            control = block.get("cache_control")
            plain = {k: v for k, v in block.items() if k != "cache_control"}
        if control is None and isinstance(automatic, dict) and index == len(blocks) - 1:
            control = automatic
        digest.update(b"\x1e" + section.encode() + b"\x1f")
        digest.update(json.dumps(plain, sort_keys=True, default=str).encode())
        chars += block_chars(block)
        ttl = str(control.get("ttl", "5m")) if isinstance(control, dict) else None
        positions.append(Position(digest.copy().hexdigest(), math.ceil(chars / 4), ttl))
    return positions
