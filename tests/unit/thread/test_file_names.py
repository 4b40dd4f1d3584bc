"""File names sanitised for the store, and content-addressed file ids."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from actors.thread.file_store import MAX_NAME_CHARS, file_id_for, sanitize_name


@given(st.text(max_size=400))
def test_a_sanitised_name_is_always_safe(name: str) -> None:
    """Whatever the user's file is called, the stored name is one short, printable path
    component with no shell metacharacters and never empty or hidden."""
    clean = sanitize_name(name, "document.bin")
    assert clean
    assert len(clean) <= MAX_NAME_CHARS
    assert "/" not in clean
    assert "\\" not in clean
    assert not clean.startswith(".")
    assert not any(unicodedata.category(ch)[0] == "C" for ch in clean)
    assert not set(clean) & set("$`;|&<>*?!'\"{}[]~#%^")


def test_names_keep_their_extension_and_readable_parts() -> None:
    """Ordinary names survive; long ones keep their extension; paths lose their folders."""
    assert sanitize_name("Отчёт 2026 (final).pdf", "x") == "Отчёт 2026 (final).pdf"
    assert sanitize_name("C:\\Users\\me\\data.csv", "x") == "data.csv"
    long = sanitize_name("a" * 300 + ".xlsx", "x")
    assert long.endswith(".xlsx")
    assert len(long) == MAX_NAME_CHARS
    assert sanitize_name(None, "voice.ogg") == "voice.ogg"


def test_file_ids_are_content_addressed_per_thread_and_origin() -> None:
    """The same bytes in the same thread and origin give the same id; anything else differs."""
    sha = "ab" * 32
    assert file_id_for("1:0", "user", sha) == file_id_for("1:0", "user", sha)
    assert (
        len(
            {
                file_id_for("1:0", "user", sha),
                file_id_for("2:0", "user", sha),
                file_id_for("1:0", "tool", sha),
                file_id_for("1:0", "user", "cd" * 32),
            }
        )
        == 4
    )
