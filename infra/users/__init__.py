"""The users actor service (``bot.users.commands`` -> ``bot.users.events``)."""
