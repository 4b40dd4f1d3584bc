"""The gateway's pure logic: Telegram messages in, thread and user commands out.

No I/O and no aiogram here: :mod:`infra.gateway` hands over Telegram's JSON (``Message``
objects dumped by alias), these modules decide what it means (:mod:`.normalize`), which
records to write (:mod:`.commands`), which messages form one turn (:mod:`.batching`) and
which updates were already seen (:mod:`.dedupe`).
"""
