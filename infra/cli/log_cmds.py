"""The operator's view of the log: ``botctl topics tail`` and ``botctl dlq list|show|retry``.

``tail`` prints a topic's records (decoded through the topic's codec with ``--decode``);
``dlq`` lists the dead letters of every topic with their reasons, shows one in full, and
re-produces chosen ones to their source topic once the cause is fixed. A retried record
keeps its producer-chosen id, so a consumer that had already applied it ignores it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import msgspec

from events.catalog import all_topics, topic_named, with_prefix
from events.codec import DecodeError, codec_for
from infra.bootstrap import Root
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import (
    HEADER_FAILED_AT,
    HEADER_REASON,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
)
from infra.kafka.topic_reader import TopicNotFound, read_topic_records
from infra.settings import ConfigError


def register(commands: Any, topics_actions: Any) -> None:
    tail = topics_actions.add_parser("tail", help="print a topic's records (newest last)")
    tail.add_argument("topic", help="topic name, e.g. bot.billing.ledger")
    tail.add_argument("--decode", action="store_true", help="decode values with the codec")
    tail.add_argument("--key", help="only records with this key")
    tail.add_argument("--last", type=int, help="start N records before each partition's end")
    tail.add_argument("--follow", action="store_true", help="keep printing new records")
    tail.add_argument("--prefix", default="", help="topic name prefix")
    tail.set_defaults(handler=tail_cmd)

    dlq = commands.add_parser("dlq", help="dead letters: list, show, retry")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every dead letter of every topic, one a line")
    listing.add_argument("--prefix", default="", help="topic name prefix")
    listing.set_defaults(handler=dlq_list_cmd)
    show = actions.add_parser("show", help="one dead letter in full")
    show.add_argument("topic", help="the dead-letter topic, e.g. bot.billing.commands.dlq")
    show.add_argument("position", type=_position, help="PARTITION:OFFSET")
    show.set_defaults(handler=dlq_show_cmd)
    retry = actions.add_parser("retry", help="re-produce dead letters to their source topic")
    retry.add_argument("topic", help="the dead-letter topic")
    retry.add_argument("positions", type=_position, nargs="*", help="PARTITION:OFFSET ...")
    retry.add_argument("--all", action="store_true", help="every dead letter of the topic")
    retry.set_defaults(handler=dlq_retry_cmd)


# --------------------------------------------------------------------------- pure formatting


@dataclass(frozen=True, slots=True)
class Position:
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


def _position(text: str) -> Position:
    part, sep, off = text.partition(":")
    if not (sep and 0 < len(part) <= 6 and 0 < len(off) <= 19):
        raise argparse.ArgumentTypeError(f"{text!r} is not PARTITION:OFFSET (e.g. 3:1207)")
    if not (part.isascii() and part.isdigit() and off.isascii() and off.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not PARTITION:OFFSET (e.g. 3:1207)")
    return Position(int(part), int(off))


def header_text(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str:
    for key, value in headers or ():
        if key == name:
            return value.decode(errors="replace")
    return ""


def record_line(record: Any, *, decoded: Any | None = None, error: str | None = None) -> str:
    """One record as one line: ``partition:offset key type value`` (JSON, never wrapped)."""
    key = record.key.decode(errors="replace") if record.key else "-"
    head = f"{record.partition}:{record.offset} {key}"
    if error is not None:
        return f"{head} UNDECODABLE({error}) {_raw(record.value)}"
    if decoded is not None:
        return f"{head} {json.dumps(decoded, ensure_ascii=False, default=str)}"
    return f"{head} {_raw(record.value)}"


def dead_letter_line(record: Any) -> str:
    """``topic partition:offset key reason <- source``."""
    key = record.key.decode(errors="replace") if record.key else "-"
    reason = header_text(record.headers, HEADER_REASON) or "?"
    source = header_text(record.headers, HEADER_SOURCE_TOPIC) or "?"
    source_partition = header_text(record.headers, HEADER_SOURCE_PARTITION)
    source_offset = header_text(record.headers, HEADER_SOURCE_OFFSET)
    failed_at = header_text(record.headers, HEADER_FAILED_AT)
    return (
        f"{record.topic} {record.partition}:{record.offset} key={key} reason={reason} "
        f"from={source}@{source_partition}:{source_offset} at={failed_at}"
    )


def _raw(value: bytes | None) -> str:
    if value is None:
        return "(tombstone)"
    return value.decode(errors="replace").replace("\n", "\\n")


# --------------------------------------------------------------------------- I/O


async def _connect() -> tuple[str, BrokerProfile]:
    root = await Root.open()
    return root.bootstrap, await root.profile()


async def tail_records(
    bootstrap: str,
    profile: BrokerProfile,
    topic: str,
    out: TextIO,
    *,
    decode: bool = False,
    key: str | None = None,
    last: int | None = None,
    follow: bool = False,
    prefix: str = "",
) -> int:
    """Print ``topic``'s records to ``out``; answers how many were printed."""
    codec = None
    if decode:
        bare = topic.removeprefix(prefix)
        try:
            spec = topic_named(bare)
        except KeyError:
            raise ConfigError(f"--decode: {bare!r} is not a topic of the catalog") from None
        if spec.dead_letter_of is None:
            codec = codec_for(with_prefix(spec, prefix))
    wanted_key = key.encode() if key is not None else None
    printed = 0
    async for record in read_topic_records(bootstrap, profile, topic, last=last, follow=follow):
        if wanted_key is not None and record.key != wanted_key:
            continue
        if codec is None:
            line = record_line(record)
        else:
            try:
                event = codec.decode(record.value, record.headers)
            except DecodeError as exc:
                line = record_line(record, error=exc.reason)
            else:
                line = record_line(record, decoded=_as_json(event))
        print(line, file=out, flush=follow)
        printed += 1
    return printed


def _as_json(event: Any) -> Any:
    return msgspec.to_builtins(event)


async def dead_letters(bootstrap: str, profile: BrokerProfile, prefix: str = "") -> list[Any]:
    """Every record of every dead-letter topic of the catalog."""
    found: list[Any] = []
    for spec in all_topics():
        if spec.dead_letter_of is None:
            continue
        try:
            async for record in read_topic_records(bootstrap, profile, prefix + spec.name):
                found.append(record)
        except TopicNotFound:
            continue
    return found


async def retry_dead_letters(
    bootstrap: str,
    profile: BrokerProfile,
    dlq_topic: str,
    positions: Sequence[Position] | None,
) -> list[tuple[Position, str]]:
    """Re-produce the chosen dead letters (all when ``positions`` is None) to their source
    topics, with their original key, value and headers; answers what went where."""
    wanted = None if positions is None else set(positions)
    producer = make_producer(bootstrap, profile)
    await producer.start()
    sent: list[tuple[Position, str]] = []
    try:
        async for record in read_topic_records(bootstrap, profile, dlq_topic):
            pos = Position(record.partition, record.offset)
            if wanted is not None and pos not in wanted:
                continue
            source = header_text(record.headers, HEADER_SOURCE_TOPIC)
            if not source:
                raise ConfigError(f"{dlq_topic} {pos} has no {HEADER_SOURCE_TOPIC} header")
            headers = [(k, v) for k, v in record.headers or () if not k.startswith("dlq-")]
            await producer.send_and_wait(source, record.value, key=record.key, headers=headers)
            sent.append((pos, source))
    finally:
        await producer.stop()
    if wanted is not None:
        missing = wanted - {pos for pos, _ in sent}
        if missing:
            raise ConfigError(
                f"{dlq_topic} has no record at {', '.join(sorted(map(str, missing)))}"
            )
    return sent


async def tail_cmd(args: argparse.Namespace) -> int:
    bootstrap, profile = await _connect()
    try:
        await tail_records(
            bootstrap,
            profile,
            args.topic,
            sys.stdout,
            decode=args.decode,
            key=args.key,
            last=args.last,
            follow=args.follow,
            prefix=args.prefix,
        )
    except TopicNotFound as exc:
        raise ConfigError(str(exc)) from None
    return 0


async def dlq_list_cmd(args: argparse.Namespace) -> int:
    bootstrap, profile = await _connect()
    records = await dead_letters(bootstrap, profile, args.prefix)
    for record in records:
        print(dead_letter_line(record))
    print(f"{len(records)} dead letter(s)", file=sys.stderr)
    return 0


async def dlq_show_cmd(args: argparse.Namespace) -> int:
    bootstrap, profile = await _connect()
    try:
        async for record in read_topic_records(bootstrap, profile, args.topic):
            if (record.partition, record.offset) == (args.position.partition, args.position.offset):
                print(dead_letter_line(record))
                for name, value in record.headers or ():
                    print(f"  header {name}: {value.decode(errors='replace')}")
                print(f"  value: {_raw(record.value)}")
                return 0
    except TopicNotFound as exc:
        raise ConfigError(str(exc)) from None
    raise ConfigError(f"{args.topic} has no record at {args.position}")


async def dlq_retry_cmd(args: argparse.Namespace) -> int:
    if not args.all and not args.positions:
        raise ConfigError("dlq retry: name PARTITION:OFFSET positions, or --all")
    bootstrap, profile = await _connect()
    try:
        sent = await retry_dead_letters(
            bootstrap, profile, args.topic, None if args.all else args.positions
        )
    except TopicNotFound as exc:
        raise ConfigError(str(exc)) from None
    for pos, source in sent:
        print(f"retried {args.topic} {pos} -> {source}")
    return 0
