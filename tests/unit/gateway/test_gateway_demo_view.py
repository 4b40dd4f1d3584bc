"""The demo's chat view: drafts print as they grow, final and edited messages once."""

from __future__ import annotations

from infra.demo.chat_view import (
    Button,
    ChatView,
    SeenDraft,
    SeenMessage,
    invoice_of,
    keyboard_of,
    pick_button,
)


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


MODEL_KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Claude Haiku 4.5", "callback_data": "model:haiku"}],
        [{"text": "✓ Claude Sonnet 4.6", "callback_data": "model:sonnet"}],
        [{"text": "Claude Opus 4.6", "callback_data": "model:opus"}],
    ]
}
PAY_KEYBOARD = {
    "inline_keyboard": [
        [
            {"text": "50 ⭐ → $0.50", "callback_data": "pay:50"},
            {"text": "100 ⭐ → $1.00", "callback_data": "pay:100"},
        ],
        [{"text": "Custom amount", "callback_data": "pay:custom"}],
    ]
}


def test_buttons_print_numbered_under_their_message_and_again_when_edited() -> None:
    """A keyboard prints one line per row, numbered across rows; an edit of the keyboard
    alone prints the message again with the new buttons."""
    view = ChatView()
    keyboard = keyboard_of({"reply_markup": PAY_KEYBOARD})
    msg = SeenMessage(3, None, "Choose how many Telegram Stars to buy:", True, "text", keyboard)
    assert view.update([msg], []) == [
        "bot: Choose how many Telegram Stars to buy:",
        "    [1] 50 ⭐ → $0.50  [2] 100 ⭐ → $1.00",
        "    [3] Custom amount",
    ]
    assert view.update([msg], []) == []
    ticked = keyboard_of({"reply_markup": MODEL_KEYBOARD})
    edited = SeenMessage(3, None, msg.text, True, "text", ticked)
    assert view.update([edited], []) == [
        f"bot (edited): {msg.text}",
        "    [1] Claude Haiku 4.5",
        "    [2] ✓ Claude Sonnet 4.6",
        "    [3] Claude Opus 4.6",
    ]


def test_invoice_prints_title_and_amount() -> None:
    """An invoice prints its title, description and amount in its currency."""
    view = ChatView(topic_names={4: "Money"})
    invoice = invoice_of(
        {
            "invoice": {
                "title": "100 Stars",
                "description": "Adds $1.00 to your balance",
                "currency": "XTR",
                "total_amount": 100,
            }
        }
    )
    assert invoice is not None
    msg = SeenMessage(5, 4, "100 Stars", True, "invoice", invoice=invoice)
    assert view.update([msg], []) == [
        "[Money] bot: invoice: 100 Stars — Adds $1.00 to your balance",
        "    amount: 100 XTR    (/paynow pays it)",
    ]
    assert invoice_of({"text": "hi"}) is None
    assert keyboard_of({"reply_markup": {"force_reply": True}}) == ()


def test_pick_button_by_number_or_text() -> None:
    """/press takes a number from 1, an exact label (✓ and case ignored) or a unique part."""
    keyboard = keyboard_of({"reply_markup": MODEL_KEYBOARD})
    assert pick_button(keyboard, "1") == Button("Claude Haiku 4.5", "model:haiku")
    assert pick_button(keyboard, "claude sonnet 4.6") == Button(
        "✓ Claude Sonnet 4.6", "model:sonnet"
    )
    assert pick_button(keyboard, "opus") == Button("Claude Opus 4.6", "model:opus")
    assert pick_button(keyboard, "4") == "no button 4: there are 3"
    assert pick_button(keyboard, "claude") == "'claude' matches 3 buttons; use its number"
    assert pick_button(keyboard, "gpt") == "no button matches 'gpt'"
    assert pick_button(keyboard, " ").startswith("say which button")
    assert pick_button((), "1") == "no buttons"
