"""Long-running processes of the bot: gateway, thread workers, billing, projector."""
