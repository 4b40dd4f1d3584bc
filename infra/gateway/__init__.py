"""The Telegram gateway: aiogram routers that turn updates into commands on the log."""
