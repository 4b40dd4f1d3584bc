"""The demo's chat view: drafts print as they grow, final and edited messages once."""

from __future__ import annotations

from infra.demo.chat_view import ChatView, SeenDraft, SeenMessage


def test_drafts_then_final_message() -> None:
    """A growing draft prints its additions; the final message prints once; edits print."""
    view = ChatView(topic_names={7: "Trip"})
    assert view.update([], [SeenDraft(1, 7, "Hel", True)]) == ["[Trip] bot (writing): Hel"]
    assert view.update([], [SeenDraft(1, 7, "Hello wor", True)]) == ["... lo wor"]
    assert view.update([], [SeenDraft(1, 7, "Hello wor", True)]) == []
    final = SeenMessage(10, 7, "Hello world", True, "text")
    mine = SeenMessage(9, 7, "hi", False, "text")
    assert view.update([mine, final], [SeenDraft(1, 7, "Hello wor", False)]) == [
        "[Trip] bot: Hello world"
    ]
    assert view.update([mine, final], []) == []
    edited = SeenMessage(10, 7, "Hello world!", True, "text")
    assert view.update([edited], []) == ["[Trip] bot (edited): Hello world!"]
    service = SeenMessage(11, 7, "", True, "service")
    assert view.update([service], []) == []
