"""Adapters of the provider ports the tools use (``actors/thread/tools/providers.py``): E2B
sandboxes, Gemini images, the TeX renderer, file delivery to Telegram, and how a worker
wires them from its settings (:mod:`infra.tools.wiring`)."""
