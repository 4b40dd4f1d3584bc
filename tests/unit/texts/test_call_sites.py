"""The texts users see come from the catalogs: every key a call site names exists, and the
modules converted to the catalogs hold no English sentence of their own."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.texts import en

ROOT = Path(__file__).resolve().parents[3]

CONVERTED = (
    "actors/gateway/replies.py",
    "actors/gateway/model_card.py",
    "actors/gateway/command_registry.py",
    "actors/billing/replies.py",
    "actors/billing/payments.py",
    "actors/thread/errors.py",
    "actors/thread/progress.py",
    "actors/thread/decide.py",
    "infra/threads/recovery.py",
    "infra/threads/turn_tools.py",
    "infra/threads/notices.py",
    "infra/billing/payments_process.py",
    "actors/typed_numbers.py",
    "actors/broadcast/announce_args.py",
    "infra/gateway/errors.py",
    "infra/gateway/command_menu.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "infra/gateway/routers").glob("*.py")),
)
"""Modules whose user-visible texts all come from :mod:`actors.texts`."""

PROSE = re.compile(r"[A-Za-z]{2,}[,;:]? [a-z]{2,} [a-z]{2,}")
"""Three words in a row: a sentence, not an identifier, a key or a format."""

NOT_SHOWN = {"debug", "info", "warning", "error", "exception", "critical", "_rejected"}
"""Logger methods and the thread's rejection records: their texts are for operators."""

OPERATOR_NAMES = {"detail", "GONE"}
"""Variables holding a record's English detail (for operators, never sent) or Telegram's own
error descriptions a router matches (never sent)."""


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    for node in ast.walk(tree):  # attribute docstrings: a bare string after an assignment
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list):
                for stmt in stmts:
                    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                        found.add(id(stmt.value))
    return found


PARSER_WORDS = {"what", "usage", "example", "noun"}
"""Keyword arguments of :mod:`actors.typed_numbers` parsers: they word the ValueError a
router catches and replaces with a catalog text."""


def _operator_only(tree: ast.AST) -> set[int]:
    """Strings of log calls, raised exceptions and parser errors (never sent to a user)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        if any(isinstance(t, ast.Name) and t.id in OPERATOR_NAMES for t in targets):
            assert isinstance(node, ast.Assign | ast.AnnAssign)
            assert node.value is not None
            found |= {id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
        if isinstance(node, ast.Raise):
            found |= {id(c) for c in ast.walk(node) if isinstance(c, ast.Constant)}
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in PARSER_WORDS:
                found |= {id(c) for c in ast.walk(keyword.value) if isinstance(c, ast.Constant)}
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in NOT_SHOWN or name.endswith(("Error", "Exception", "Refused", "Unavailable")):
            found |= {id(c) for c in ast.walk(node) if isinstance(c, ast.Constant)}
    return found


def _prose(path: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse((ROOT / path).read_text(), path)
    skip = _docstrings(tree) | _operator_only(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and PROSE.search(node.value)
        ):
            yield node.lineno, node.value


@pytest.mark.parametrize("path", CONVERTED)
def test_no_english_sentence_is_left_at_a_converted_call_site(path: str) -> None:
    """A converted module sends no English sentence of its own (they are in the catalogs)."""
    assert not list(_prose(path))


def _keys_named(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "say"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            yield node.lineno, node.args[1].value


def test_every_key_a_call_site_names_is_in_the_catalog() -> None:
    """``say(language, "a.key")`` anywhere in actors/ and infra/ names an existing key."""
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {key}"
        for top in ("actors", "infra")
        for path in sorted((ROOT / top).rglob("*.py"))
        for line, key in _keys_named(path)
        if key not in en.TEXTS
    ]
    assert not missing
