"""claudegram's development package: what tests, benchmarks and the dev commands use, and
production never does. Installed by ``./dev`` (``pip install -e ./devkit``), not by the
Dockerfile.

- ``devkit.emulators``: local emulators of the Telegram Bot API, the Claude API and the
  provider APIs (OpenAI audio, Gemini, E2B), and their pytest plugin
  (``devkit.emulators.testing``); ``python -m devkit.emulators`` runs them all.
- ``devkit.scenario``: the deterministic generator of realistic event streams.
- ``devkit.stores``: in-memory fakes of production stores (``MemoryThreadStore``).
- ``devkit.harness``: the thread actor's test harness and the test-only probe tools.
"""
