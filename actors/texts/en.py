"""English texts by key (the fallback of every other catalog; see :mod:`actors.texts`)."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, str]] = {
    # ------------------------------------------------------------------ command menu, /help
    "command.start": "Start talking to Claude",
    "command.help": "What I can do",
    "command.new": "Start a new conversation in this thread",
    "command.stop": "Stop the answer being written",
    "command.clear": "Delete this topic (outside a topic: every topic of the chat)",
    "command.model": "Choose the model: Claude or Gemini",
    "command.thinking": "How hard Claude thinks: off, low, medium, high, max",
    "command.personality": "Set, show or reset your custom system prompt",
    "command.language": "Choose the language: English or Russian",
    "command.balance": "Your balance and recent operations",
    "command.pay": "Top up your balance with Telegram Stars",
    "command.refund": "Refund a Stars payment (within 30 days)",
    "command.paysupport": "Help with payments",
    "command.topup": "Credit a user's balance (administrators)",
    "command.set_margin": "Show or set the owner margin k3 (administrators)",
    "command.set_cache_subsidy": (
        "Show or set whether the bot pays users' cache writes (administrators)"
    ),
    "command.announce": (
        "Send a message to every user, or to the listed ids, after a preview (administrators)"
    ),
    "help.title": "Commands:",
    "help.admin_title": "Administrator commands:",
    "help.footer": (
        "Sending a new message while I'm answering stops that answer and starts on yours. "
        "I read text, photos, documents (PDF, code, text...), voice, audio and video; "
        "files up to 20 MB."
    ),
    # ------------------------------------------------------------------ gateway: /start
    "gateway.supported": "text, photos, documents (PDF, code, text...), voice, audio and video",
    "gateway.welcome": (
        "Hi! I'm Claude, here in Telegram. Write to me and watch the answer appear.\n\n"
        "I read {supported}. Every forum topic is its own conversation."
    ),
    "gateway.welcome_back": "Welcome back, {first_name}!",
    "gateway.welcome_balance": "Balance: ${balance}",
    "gateway.welcome_model": "Model: {model}",
    "gateway.help_hint": "/help lists every command.",
    # ------------------------------------------------------------------ gateway: refused input
    "gateway.unsupported": "Sorry, I can't read {name}. I understand {supported}.",
    "unsupported.sticker": "stickers",
    "unsupported.location": "locations",
    "unsupported.venue": "venues",
    "unsupported.contact": "contacts",
    "unsupported.poll": "polls",
    "unsupported.dice": "dice",
    "unsupported.game": "games",
    "unsupported.story": "stories",
    "unsupported.paid_media": "paid media",
    "unsupported.checklist": "checklists",
    "unsupported.live_photo": "live photos",
    "unsupported.invoice": "invoices",
    "unsupported.giveaway": "giveaways",
    "unsupported.web_app_data": "web app data",
    "unsupported.passport_data": "Telegram Passport data",
    "unsupported.other": "this kind of message",
    "gateway.file_too_large": (
        "{name} is {size_mb} MB; Telegram lets bots download files of up to {limit_mb} MB, "
        "so I can't read it. Please send a smaller file (or split it)."
    ),
    "gateway.file_named": "The file {file_name}",
    "file_kind.photo": "The photo",
    "file_kind.document": "The document",
    "file_kind.audio": "The audio file",
    "file_kind.voice": "The voice message",
    "file_kind.video": "The video",
    "file_kind.video_note": "The video message",
    "file_kind.animation": "The animation",
    # ------------------------------------------------------------------ gateway: settings
    "gateway.model_prompt": "Choose the model for your conversations (Claude or Gemini):",
    "gateway.model_chosen": "Model set to {model}. It applies from your next message.",
    "gateway.unknown_model": "That model is not available; choose one with /model.",
    "gateway.model_unavailable": (
        "{model} is not available on this bot: no Google API key is configured. "
        "Choose another model with /model."
    ),
    "gateway.thinking_prompt": (
        "How hard should Claude think before answering? More thinking gives better answers "
        "to hard questions, takes longer and costs more (thinking is billed as output):"
    ),
    "gateway.thinking_off": "Thinking is off. It applies from your next message.",
    "gateway.thinking_chosen": "Thinking set to {level}. It applies from your next message.",
    "gateway.unknown_thinking": (
        "Choose one of: off, low, medium, high, max (for example /thinking high)."
    ),
    "thinking.off": "Off",
    "thinking.low": "Low",
    "thinking.medium": "Medium",
    "thinking.high": "High",
    "thinking.max": "Max",
    "gateway.personality_set": "Personality saved. It applies from your next message.",
    "gateway.personality_reset": "Personality reset to the default.",
    "gateway.personality_too_long": (
        "That personality is {length} characters long; the limit is {limit}. Please shorten it."
    ),
    "gateway.personality_usage": (
        "Set it with /personality <text>, reset it with /personality reset."
    ),
    "gateway.personality_default": "You use the default personality. {usage}",
    "gateway.personality_show": "Your personality:\n\n{personality}\n\n{usage}",
    "gateway.personality_unknown": "I can't look up your personality right now. {usage}",
    "gateway.language_prompt": "Choose the language I speak to you in:",
    "gateway.language_chosen": "I'll speak English from now on.",
    "gateway.unknown_language": "Choose English or Русский with /language.",
    # ------------------------------------------------------------------ gateway: other replies
    "gateway.new_conversation": (
        "New conversation started: I've forgotten this thread's earlier messages."
    ),
    "gateway.internal_error": (
        "Sorry, something went wrong on my side handling that. Please try again."
    ),
    "gateway.unavailable": "I can't read {what} right now. Please try again in a minute.",
    "view.balance": "your balance",
    "view.settings": "your settings",
    "view.margin": "the current margin",
    "view.price": "the current price",
    "view.user_directory": "the user directory",
    "view.cache_subsidy": "the cache subsidy",
    "view.chat_topics": "this chat's topics",
    "gateway.balance_sent_privately": "I've sent your balance to you in a private message.",
    "gateway.balance_needs_private_chat": (
        "Your balance is private, so I only show it in our private chat: "
        "open a chat with me, press Start, then send /balance there."
    ),
    "gateway.payment_needs_support": (
        "Thank you! Your payment is received and recorded, but I could not read its invoice, "
        "so it is not on your balance yet. Please write /paysupport with this transaction id "
        "and an administrator will credit it: {charge_id}"
    ),
    # ------------------------------------------------------------------ model cards
    "model_card.title": "{label} by {maker}",
    "model_card.sizes": "Context: {context} tokens; answers up to {max_output} tokens.",
    "model_card.no_price": "Price: not in the price table yet.",
    "model_card.prices": "Per million tokens: {parts} (thinking counts as output).",
    "model_card.input": "input {price}",
    "model_card.output": "output {price}",
    "model_card.cache_write": "cache write {price}",
    "model_card.cached_input": "cached input {price}",
    "model_card.can": "Can: {abilities}.",
    "model_card.thinking": "think before answering (/thinking)",
    "model_card.tools": "use tools (files, cost estimates, a reviewer)",
    "model_card.web": "search and read the web",
    "model_card.reads_images": "read images",
    "model_card.reads_pdfs": "read PDFs",
    "model_card.reads_both": "read images and PDFs",
    # ------------------------------------------------------------------ billing: /balance
    "billing.no_balance": (
        "You have no balance yet. Send a message to get your $1.00 starter credit."
    ),
    "billing.balance": "Balance: ${balance}",
    "billing.paused": "Requests are paused until you top up with /pay.",
    "billing.recent": "Recent operations:",
    "operation.usage_debited": "{source}: {subject}",
    "operation.usage": "usage",
    "operation.source.turn": "conversation",
    "operation.source.tool": "tool",
    "operation.source.cancelled_call": "stopped answer",
    "operation.payment_credited": "payment of {subject} Stars",
    "operation.refund_debited": "refund of {subject} Stars",
    "operation.refunded_payment_debited": "payment of {subject} Stars refunded by Telegram",
    "operation.refund_reversed": "refund failed, credited back",
    "operation.starter_credit_granted": "starter credit",
    "operation.admin_topped_up": "adjustment by an administrator",
    "operation.operation_rejected": "refused ({subject})",
    "operation.other": "{subject}",
    # ------------------------------------------------------------------ billing: payments
    "billing.paysupport": (
        "Payment support\n\n"
        "• Top up with /pay (Telegram Stars). Your balance pays for Claude requests and paid "
        "tools; /balance shows it with your recent operations and their transaction ids.\n"
        "• Refunds: /refund <transaction id> within {days} days of the "
        "payment, as long as your balance still covers what that payment credited.\n"
        "• Anything else about a payment: write here with the transaction id, and an "
        "administrator will answer."
    ),
    "billing.pay_prompt": "Choose how many Telegram Stars to buy:",
    "billing.package": "{stars} ⭐ → ${usd}",
    "billing.custom_button": "Custom amount",
    "billing.custom_prompt": (
        "How many Stars would you like to buy ({low} to {high})? "
        "Reply to this message with a number."
    ),
    "billing.custom_placeholder": "e.g. 150",
    "billing.amount_invalid": (
        "That is not an amount I can take: send a whole number of Stars between {low} and {high}."
    ),
    "billing.custom_amount_invalid": "{problem} Reply to this message with another number.",
    "billing.stale_button": "This button is not valid any more; use /pay.",
    "billing.invoice_title": "{stars} Stars top-up",
    "billing.invoice_description": "Adds ${usd} to your balance for Claude requests.",
    "billing.invoice_label": "{stars} Stars",
    "billing.payment_received": (
        "Thank you! {stars} Stars received; ${usd} is being added to your balance.\n"
        "Transaction id (for /refund): {charge_id}"
    ),
    "billing.refund_usage": "usage: /refund <transaction id> (the id is shown by /balance)",
    "billing.refund_requested": (
        "Refund of {charge_id} requested; you will get the answer here shortly."
    ),
    "billing.refund_refused": "Refund of {charge_id} refused: {why}.",
    "refusal.refund_window_expired": "the payment is older than the refund window",
    "refusal.balance_too_low": "your balance no longer covers the amount this payment credited",
    "refusal.unknown_payment": "no payment with this transaction id was made by you",
    "refusal.not_payer": "only the user who paid can ask for its refund",
    "refusal.already_refunded": "this payment has already been refunded",
    "billing.refund_done": ("Refunded {stars} Stars for {charge_id}; {amount} on your balance."),
    "billing.refund_failed": (
        "Telegram could not refund {charge_id} ({detail}); the amount was credited back "
        "to your balance. Write to /paysupport if this persists."
    ),
    # ------------------------------------------------------------------ billing: administrators
    "billing.not_admin": "This command is for administrators only.",
    "billing.topup_usage": ("usage: /topup <user_id|@username> <amount in USD> (negative deducts)"),
    "billing.set_margin_usage": "usage: /set_margin <k3>, e.g. /set_margin 0.1 or /set_margin 10%",
    "billing.refused": "Refused: {problem}.",
    "billing.unknown_user": "No user {target} is known.",
    "billing.current_margin": "Current owner margin k3 = {margin}.",
    "billing.margin_set": "Owner margin k3 set to {margin}; 100 Stars now credit ${usd}.",
    "billing.top_up_requested": (
        "Adjustment of {amount} for user {user_id} submitted ({operation_id})."
    ),
    "precheckout.stale": "This invoice is not valid any more. Use /pay again.",
    "precheckout.not_yours": "This invoice was issued to someone else. Use /pay to get your own.",
    "precheckout.currency": "Payments are accepted in Telegram Stars only.",
    "precheckout.amount": "The amount {paid} does not match the invoice ({stars} Stars).",
    "precheckout.unpayable": "This invoice cannot be paid any more. Use /pay again.",
    # ------------------------------------------------------------------ thread: notices
    "thread.too_long": (
        "⚠️ This message is too long for me to read. Please shorten it or send it as a file."
    ),
    "thread.new_conversation": "🧹 Started a new conversation.",
    "thread.fallback_title": "New conversation",
    "thread.settings_reset": "Settings of this thread reset to your defaults.",
    "thread.settings_updated": "Settings of this thread updated.",
    "thread.unknown_model": "Unknown model {model}.",
    "thread.unreadable": "⚠️ Sorry, {detail}.",
    "thread.no_text": "the message has no text",
    "unreadable.too_large": "{label} is {size} MB; the limit is 20 MB",
    "unreadable.text_too_large": "the text file {label} is over 1 MB",
    "unreadable.sticker": "I can't read stickers",
    "unreadable.program": "I don't accept program files ({label})",
    "thread.skipped": "Note: {skipped}. I'll answer the rest.",
    "thread.balance_refused": "💳 I can't answer: {reason}. Top up with /pay to continue.",
    "balance_refusal.none": "no balance yet: your account is being set up, try again",
    "balance_refusal.unreadable": ("your balance cannot be read right now; please contact support"),
    "balance_refusal.empty": "your balance is ${balance}",
    "thread.insufficient_balance": "💳 Your balance is used up. Top up with /pay to continue.",
    "thread.concurrency": (
        "⏳ You already have {limit} answers being generated. Wait for one to finish, or /stop it."
    ),
    "thread.queued": (
        "⏳ You already have {limit} answers being generated. This one waits in line and "
        "starts as soon as one finishes (up to {minutes} min); /stop cancels it."
    ),
    "thread.nothing_to_stop": "Nothing is being generated right now.",
    "thread.interrupted": (
        "⚠️ The answer was interrupted by a restart of the bot. Please send your message again."
    ),
    # ------------------------------------------------------------------ thread: failed turns
    "thread.wait_minute": "Please try again in a minute.",
    "thread.wait_seconds": "Please try again in {seconds} s.",
    "error.rate_limited": "⚠️ Claude is receiving too many requests right now. {wait}",
    "error.overloaded": "⚠️ Claude is overloaded at the moment. Please try again shortly.",
    "error.context_overflow": (
        "⚠️ This conversation no longer fits in the model's context window. "
        "Send /new to start a fresh conversation."
    ),
    "error.file_too_large": (
        "⚠️ The attached file takes about {tokens} tokens, but the model's context window has "
        "room for about {room}. Send a smaller file, or only the part you need."
    ),
    "error.files_too_large": (
        "⚠️ The {count} attached files take about {tokens} tokens, but the model's context "
        "window has room for about {room}. Send smaller files, or only the parts you need."
    ),
    "error.invalid_request": (
        "⚠️ Claude could not accept this request. Try rephrasing, or /new to start over."
    ),
    "error.invalid_request_detail": (
        "⚠️ Claude could not accept this request: {detail} Try rephrasing, or /new to start over."
    ),
    "error.timeout": "⚠️ Claude took too long to answer. Please try again.",
    "error.stream_broken": (
        "⚠️ The connection to Claude broke while answering. The partial answer is above; "
        "please try again."
    ),
    "error.telegram": "⚠️ Telegram refused the answer. Please try again.",
    "error.auth": "⚠️ The bot cannot reach Claude right now (configuration).",
    "error.model_unavailable": (
        "⚠️ Gemini models are not available on this bot (no Google API key is configured). "
        "Choose a Claude model with /model and send your message again."
    ),
    "error.internal": "⚠️ Something went wrong on our side. Please try again.",
    "error.api_error": "⚠️ Claude answered with an error. Please try again.",
    # ------------------------------------------------------------------ thread: progress
    "progress.thinking": "🧠 Thinking…",
    "progress.thought": "🧠 thought",
    "progress.transcribed": "🎤 transcribed",
    "progress.heard": "🎤 Heard{length}: “{text}”",
    "progress.silence": "(silence)",
    "progress.earlier": "… {count} earlier steps",
    "progress.failed": " (failed)",
    "progress.sources": "Sources:",
    "summary.web_search": "searched the web",
    "summary.web_fetch": "read a page",
    "summary.extended_thinking": "thought it through",
    "summary.self_critique": "checked the answer",
    "summary.analyze_image": "looked at an image",
    "summary.analyze_pdf": "read a PDF",
    "summary.preview_file": "previewed a file",
    "summary.list_files": "listed files",
    "summary.estimate_cost": "estimated the cost",
    "summary.execute_python": "ran code",
    "summary.generate_image": "drew an image",
    "summary.transcribe_audio": "transcribed audio",
    "summary.render_latex": "typeset LaTeX",
    "summary.deliver_file": "sent a file",
    "status.using": "using {name}",
    "status.web_search": "searching the web for “{query}”",
    "status.web_fetch": "reading page {page}",
    "status.analyze_image": "looking at the image",
    "status.analyze_pdf": "reading the PDF",
    "status.analyze_pdf_pages": "reading pages {pages} of the PDF",
    "status.deliver_file": "sending a file",
    "status.estimate_cost": "estimating the cost",
    "status.execute_python": "running Python",
    "status.execute_python_installing": "running Python, installing {packages}",
    "status.extended_thinking": "thinking it through",
    "status.extended_thinking_tail": "thinking it through: …{tail}",
    "status.generate_image": "drawing",
    "status.generate_image_prompt": "drawing: {prompt}",
    "status.edit_image": "editing the image",
    "status.edit_image_prompt": "editing the image: {prompt}",
    "status.list_files": "listing the files",
    "status.preview_file": "previewing the file",
    "status.render_latex": "typesetting LaTeX",
    "status.self_critique": "checking the answer",
    "status.reviewing": "reviewing: {status}",
    "status.reviewing_step": "reviewing the answer (step {step} of at most {limit})",
    "status.transcribe_audio": "transcribing audio",
    # ------------------------------------------------------------------ cache subsidy
    "billing.set_cache_subsidy_usage": "usage: /set_cache_subsidy on|off",
    "billing.cache_subsidy_on": "Cache subsidy is on: the bot pays users' prompt-cache writes.",
    "billing.cache_subsidy_off": "Cache subsidy is off: users pay their prompt-cache writes.",
    "billing.cache_subsidy_set_on": (
        "Cache subsidy on: from now on users are not charged for prompt-cache writes."
    ),
    "billing.cache_subsidy_set_off": (
        "Cache subsidy off: from now on users pay prompt-cache writes again."
    ),
    # ------------------------------------------------------------------ /clear
    "clear.yes": "Yes, delete",
    "clear.cancel": "Cancel",
    "clear.refused": "Only this chat's administrators can delete its topics.",
    "clear.no_topics": (
        "There are no topics here for me to delete. /new starts a new conversation instead."
    ),
    "clear.not_yours": "Only the person who asked can answer this.",
    "clear.cancelled": "Cancelled: nothing was deleted.",
    "clear.confirm_one": (
        "Delete this topic and everything in it? The conversation here ends for good."
    ),
    "clear.confirm_all": (
        "Delete all {count} topics of this chat and everything in them? "
        "Their conversations end for good."
    ),
    "clear.deleted": "Topics deleted: {count}.",
    "clear.not_deleted": "Topic {topic} was not deleted: {why}",
    # ------------------------------------------------------------------ /announce, broadcasts
    "broadcast.usage": (
        "Usage: /announce <text> (to every known user) or /announce to:ID,ID,... <text> "
        "(to the listed user ids); /announce stop stops your running broadcasts."
    ),
    "broadcast.refused": "Refused: {problem}.",
    "broadcast.too_many_ids": "At most {limit} user ids can be listed.",
    "broadcast.too_long": (
        "The text is {length} characters long; Telegram sends at most {limit} in one message."
    ),
    "broadcast.preview_all": (
        "Preview of the announcement to every known user: the next message is exactly what "
        "they will see. Send it, or cancel."
    ),
    "broadcast.preview_listed": (
        "Preview of the announcement to {count} listed users: the next message is exactly "
        "what they will see. Send it, or cancel."
    ),
    "broadcast.button_send": "✅ Send",
    "broadcast.button_cancel": "✖️ Cancel",
    "broadcast.only_author": "Only the author of this announcement can send or cancel it.",
    "broadcast.queued": "Sending. I'll report here how it went.",
    "broadcast.cancelled": "Announcement cancelled: nothing was sent.",
    "broadcast.unreadable_button": "This button is no longer valid.",
    "broadcast.started": "Broadcast started: {total} recipients.",
    "broadcast.progress": (
        "Broadcast: {done} of {total} done (sent {sent}, failed {failed}, blocked {blocked})."
    ),
    "broadcast.finished": (
        "Broadcast finished: {total} recipients, sent {sent}, failed {failed}, blocked {blocked}."
    ),
    "broadcast.button_stop": "⏹ Stop",
    "broadcast.stopped_report": (
        "Broadcast stopped: {total} recipients, sent {sent}, failed {failed}, blocked "
        "{blocked}, not sent {not_sent}."
    ),
    "broadcast.stop_requested": "Stopping your running broadcasts; the report follows here.",
    "broadcast.unknown_note": (
        " {unknown} of the failed were being sent when the broadcaster stopped: they may have "
        "received it, and were not sent it again."
    ),
    # ------------------------------------------------------------------ refusals of typed input
    "number.noun.number": "a number",
    "number.noun.usd_amount": "an amount in USD",
    "number.what.amount": "the amount",
    "number.what.margin": "the margin",
    "number.what.transaction_id": "the transaction id",
    "number.unit.stars": " Stars",
    "number.example.margin": "0.1 or 10%",
    "number.example.admin_amount": "2.5 or -1",
    "number.too_long": "{what} is too long to be {noun} (e.g. {example})",
    "number.not_finite": "{what} must be a finite number (e.g. {example})",
    "number.not_a_number": "{shown} is not {noun} (e.g. {example})",
    "number.out_of_range": "{what} is out of range (e.g. {example})",
    "number.too_many_places": "{what} has too many decimal places (e.g. {example})",
    "number.send_whole": "{problem}; send a whole number between {low} and {high}{unit}",
    "number.not_whole": (
        "{what} must be a whole number between {low} and {high}{unit}, in whole numbers"
    ),
    "number.between": "{what} must be between {low} and {high}{unit}",
    "number.not_user_id": "{shown} is not a numeric Telegram user id",
    "number.not_username": "{shown} is not a Telegram @username",
    "number.token_chars": "{what} is one word of letters, digits and signs; {usage}",
    "policy.margin_not_finite": "the margin must be a finite number",
    "policy.margin_negative": "the margin cannot be negative",
    "policy.margin_too_high": (
        "k1 + k2 + k3 must stay below 1 (k1={k1}, k2={k2}, so k3 must not exceed {limit}): "
        "at 1 every payment would credit $0"
    ),
    "policy.margin_places": (
        "the margin takes at most {places} decimal places ({quantum} = {percent}%)"
    ),
    "policy.amount_not_finite": "the amount must be a finite number",
    "policy.amount_zero": "the amount must not be zero",
    "policy.amount_too_large": "the amount must not exceed {limit} USD either way",
    "policy.amount_places": "the amount takes at most {places} decimal places",
    "refusal_detail.unknown_payment": (
        "no payment {charge_id} was made by you (only the payer can refund a payment)"
    ),
    "refusal_detail.refund_window_expired": (
        "refunds are possible within {days} days of the payment (paid {paid})"
    ),
    "refusal_detail.balance_too_low": (
        "the available balance ${balance} (after usage still running) no longer covers the "
        "${credited} this payment credited"
    ),
}
