"""The thread file store (PostgreSQL large objects), the tools' view of it, and file intake:
download from Telegram, conversion, Files API upload, voice transcription, retention."""
