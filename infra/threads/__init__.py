"""Thread worker: the Faust shell of the thread actor and its Claude/Telegram adapters."""
