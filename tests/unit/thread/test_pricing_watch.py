from __future__ import annotations

import logging

import pytest

from actors.billing import commands
from actors.thread.models import SONNET
from events.usage import ModelUsage, ToolQuantities, Usage
from infra.threads.metrics import UNPRICED_MODEL_CHARGES
from infra.threads.pricing_watch import note_unpriced, unpriced_models


def test_a_charge_for_an_unpriced_model_is_counted_and_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A model id with no price row (charged at the ceiling) raises the metric and an error
    log; a priced one, a dated snapshot of it included, does neither."""
    usage = Usage(input_tokens=10, output_tokens=5)
    priced = commands.usage_charge(1, model=SONNET, usage=usage)
    dated = commands.usage_charge(1, model=f"{SONNET}-20260101", usage=usage)
    tool = commands.usage_charge(
        1,
        tool_name="analyze_image",
        tool_quantities=ToolQuantities(
            model_calls=(ModelUsage(model="claude-opus-9", usage=usage),)
        ),
        source="tool_call",
    )
    new = commands.usage_charge(1, model="claude-sonnet-9", usage=usage)
    assert unpriced_models(priced) == unpriced_models(dated) == []
    assert unpriced_models(tool) == ["claude-opus-9"]
    before = UNPRICED_MODEL_CHARGES.labels("claude-sonnet-9")._value.get()
    with caplog.at_level(logging.ERROR, logger="infra.threads.pricing_watch"):
        note_unpriced([priced, dated, new])
    assert UNPRICED_MODEL_CHARGES.labels("claude-sonnet-9")._value.get() == before + 1
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "claude-sonnet-9" in caplog.records[0].getMessage()
