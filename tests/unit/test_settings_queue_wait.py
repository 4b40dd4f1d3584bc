"""``THREAD_QUEUE_WAIT``: how long a request beyond the concurrency limit waits in line, read
through Settings into the thread actor's config."""

from __future__ import annotations

import pytest

from infra.settings import ConfigError, load_settings
from infra.threads.worker import ThreadWorkerConfig


def test_the_queue_wait_defaults_to_five_minutes_and_reaches_the_worker_config() -> None:
    """Unset: 300 s; set: that many seconds (0 refuses at once), in the worker's config."""
    assert load_settings({}).thread_queue_wait == 300.0
    assert ThreadWorkerConfig.from_settings(load_settings({})).queue_wait == 300.0
    configured = load_settings({"THREAD_QUEUE_WAIT": "45"})
    assert ThreadWorkerConfig.from_settings(configured).queue_wait == 45.0
    assert load_settings({"THREAD_QUEUE_WAIT": "0"}).thread_queue_wait == 0.0


@pytest.mark.parametrize("raw", ["-1", "soon", "1e9", "100000"])
def test_a_malformed_queue_wait_stops_start_up_naming_it(raw: str) -> None:
    """Anything but 0 to 86400 seconds is refused with the setting's name."""
    with pytest.raises(ConfigError, match="THREAD_QUEUE_WAIT"):
        load_settings({"THREAD_QUEUE_WAIT": raw})
