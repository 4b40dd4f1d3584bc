"""The operator commands' arguments: positions are parsed with a bounded grammar."""

from __future__ import annotations

import argparse

import pytest

from infra.cli.log_cmds import Position, _position
from infra.cli.main import build_parser


def test_positions_parse_and_hostile_ones_are_refused() -> None:
    """'3:1207' is a position; huge, signed, non-ASCII or malformed ones are refused."""
    assert _position("3:1207") == Position(3, 1207)
    for bad in ["3", ":1", "3:", "-1:2", "3:1e9", "3:" + "9" * 40, "٣:1", "3:1:2"]:
        with pytest.raises(argparse.ArgumentTypeError):
            _position(bad)


def test_botctl_knows_tail_and_dlq() -> None:
    """The commands are reachable from botctl's parser."""
    parser = build_parser()
    args = parser.parse_args(["topics", "tail", "bot.billing.ledger", "--decode", "--last", "5"])
    assert (args.topic, args.decode, args.last) == ("bot.billing.ledger", True, 5)
    args = parser.parse_args(["dlq", "retry", "bot.billing.commands.dlq", "0:4", "2:9"])
    assert args.positions == [Position(0, 4), Position(2, 9)]
