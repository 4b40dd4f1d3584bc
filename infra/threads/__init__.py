"""Thread worker: the consumer shell of the thread actor and its Claude/Telegram adapters."""
