"""The thread actor: pure decisions, state fold, context building, Telegram formatting."""
