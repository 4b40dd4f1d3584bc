"""What must hold after every chaos run, checked against the log, the chat and the read side.

* Every user message is answered or failed exactly once: it is accepted (or rejected) by
  one event, every turn it started ends in exactly one terminal event, and the chat shows
  exactly one answer for a completed turn (none for a rejected message, at most one for a
  failed or cancelled turn). One exception is counted apart, never hidden: a completed
  turn's answer shown twice because the thread worker was killed after Telegram took it and
  before the completion was recorded (see :func:`redelivery`; the Bot API has no
  idempotency key, so answers are delivered at least once).
* No charge is applied twice and none is lost: every model call that completed
  (``assistant_message_completed``), and every failed or cancelled call that consumed
  tokens, has exactly one ``usage_debited`` in the ledger; no debit names a source the
  thread log does not hold; every Stars payment is credited once, and refunded at most once
  (by the ledger and by Telegram).
* The balance is the fold of the ledger: per user, the amounts of the applied entries sum
  to the last ``balance_after`` (the projected ``users.balance`` is ``botctl verify``'s).
* Every announcement reaches each recipient at most once, and each ends ``sent``, ``failed``
  or ``blocked`` (one outcome, matching the chat: a recipient shown it is ``sent``, or
  ``failed`` with the outcome unknown), and its broadcast finishes with those counts.
* ``botctl verify`` is clean: a rebuild from offset zero equals the live read models and
  the ledger invariants hold there.

Records are deduplicated by their producer-chosen ids first: at-least-once delivery may
write a record twice, and a duplicate is no violation; two different ids for one effect is.

:func:`check_run` checks the first three over one run's users (their share of the log) as
soon as the run settled; :func:`check_all` checks charges and balances over the whole log,
runs ``botctl verify`` and lists unexpected dead letters, at a quiet moment (the runner
pauses its runs for it). :func:`turn_streams` measures how long each answer paused.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from chaos_log import LogTails
from chaos_workload import RunRecord, SentBroadcast, SentMessage, bot_text_with

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from events.admin import AnnouncementRequested
from events.billing import (
    OperationRejected,
    PaymentCredited,
    RefundDebited,
    RefundReversed,
    UsageDebited,
)
from events.broadcast import BroadcastFinished, DeliveryRecorded
from events.keys import thread_key
from events.thread import (
    AssistantMessageCompleted,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageAccepted,
    UserMessageRejected,
)
from events.usage import Usage
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.projector.lag import lag
from infra.projector.verify import verify

TERMINAL = (TurnCompleted, TurnFailed, TurnCancelled)


@dataclass
class LogView:
    """The thread log and the ledger, as they are now (deduplicated by record id)."""

    events: list[Any]
    ledger: list[Any]
    by_key: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for event in self.events:
            self.by_key.setdefault(event.key, []).append(event)

    @classmethod
    async def read(cls, tails: LogTails) -> LogView:
        """Everything written before now (the tails read only what is new)."""
        events, ledger = await tails.refresh()
        return cls(list(events), list(ledger))

    def of_key(self, key: str) -> list[Any]:
        return self.by_key.get(key, [])

    def of_users(self, user_ids: Iterable[int]) -> LogView:
        """Only these users' private threads and ledger entries (one run's share)."""
        users = set(user_ids)
        keys = {thread_key(u) for u in users}
        return LogView(
            [e for key in keys for e in self.of_key(key)],
            [e for e in self.ledger if getattr(e, "user_id", None) in users],
        )


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)
    """Answers shown twice by the at-least-once window (no violation; see redelivery)."""

    def add(self, found: Iterable[str]) -> None:
        self.violations.extend(found)


def _consumed(usage: Usage) -> bool:
    return any(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation_5m_input_tokens,
            usage.cache_creation_1h_input_tokens,
        )
    )


@dataclass(frozen=True)
class Witness:
    """What the harness saw besides the log and the chat, to tell an answer redelivered after
    a kill from an answer given twice: each service's kill -9 moments, and when the model
    was asked about a message (both ``time.monotonic``, as the emulators' records)."""

    kills: Mapping[str, Sequence[float]] = field(default_factory=dict)
    asked: Callable[[str], Sequence[float]] = lambda token: ()


def model_asked(claude: ClaudeEmulator) -> Callable[[str], Sequence[float]]:
    """When the model was asked to answer a message holding ``token`` (its last user turn)."""

    def asked(token: str) -> list[float]:
        return [r.at for r in claude.message_requests() if token in _last_user_text(r.body)]

    return asked


def _last_user_text(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    users = [m for m in messages or () if isinstance(m, dict) and m.get("role") == "user"]
    return json.dumps(users[-1].get("content"), ensure_ascii=False) if users else ""


def message_violations(
    log: LogView,
    record: RunRecord,
    telegram: TelegramEmulator,
    token: str,
    witness: Witness | None = None,
) -> list[str]:
    """Each message of the run answered or failed exactly once (log and chat); an answer
    shown twice is named unless ``witness`` shows it a :func:`redelivery`."""
    return _message_outcomes(log, record, telegram, token, witness or Witness())[0]


ANSWERING_SERVICE = "thread-worker"
"""The service that sends the answers (its kill -9 can cut the window below)."""
KILL_SLACK = 1.0
"""A kill may come this long before the emulator's record of the send it cut short: the
request was on the wire, and the emulator (in the harness's busy event loop) records a call
when it has answered it."""


@dataclass(frozen=True)
class Shown:
    """An answer in the chat: its message id, its text, when its sendMessage was answered."""

    message_id: int
    text: str
    at: float


def redelivery(
    answers: Sequence[Shown],
    recorded: Collection[int],
    named: Collection[int],
    kills: Sequence[float],
    asked: Sequence[float],
) -> bool:
    """Whether the two answers of a message's one completed turn are its at-least-once
    redelivery, not an answer given twice. The Bot API has no idempotency key: a worker that
    dies between Telegram's acceptance of the answer and the completion's record leaves the
    next worker nothing to tell whether the recorded answer was shown, so it sends it again.
    It is one only when all of these hold:

    * the two show the same text (the recorded answer, sent again);
    * the turn's completion names the second (``recorded``), and no completion of the
      thread names the first (``named``: every completion's message ids);
    * the model was not asked about the message after the first was sent (``asked``): the
      turn was not run again;
    * the thread worker was killed after the first was sent and before the second
      (``kills``; the first's time less :data:`KILL_SLACK`).

    ``answers`` are oldest first; times are ``time.monotonic``."""
    if len(answers) != 2:
        return False
    first, second = answers
    return (
        first.text == second.text
        and second.message_id in recorded
        and first.message_id not in named
        and not any(at > first.at for at in asked)
        and any(first.at - KILL_SLACK <= k <= second.at for k in kills)
    )


def _answer_sends(telegram: TelegramEmulator, token: str, chat_id: int, text: str) -> list[float]:
    """When each sendMessage to ``chat_id`` holding ``text`` was answered, oldest first."""
    return [
        c.at
        for c in telegram.bot(token).calls
        if c.method == "sendMessage"
        and c.error is None
        and str(c.params.get("chat_id")) == str(chat_id)
        and text in str(c.params.get("text", ""))
    ]


def _message_outcomes(
    log: LogView,
    record: RunRecord,
    telegram: TelegramEmulator,
    token: str,
    witness: Witness,
) -> tuple[list[str], list[str]]:
    """(violations, redeliveries) of the run's messages."""
    found: list[str] = []
    redelivered: list[str] = []
    for sent in record.messages:
        events = log.of_key(thread_key(sent.user_id))
        outcomes = [
            e
            for e in events
            if (isinstance(e, UserMessageAccepted) and e.message.message_id == sent.message_id)
            or (isinstance(e, UserMessageRejected) and e.message_id == sent.message_id)
        ]
        chat = telegram.bot_messages(sent.user_id, token=token)
        answers = [m for m in chat if sent.token in (m.text or "")]
        where = f"message {sent.token}"
        if len(outcomes) != 1:
            found.append(f"{where}: {len(outcomes)} acceptance/rejection events (want 1)")
            continue
        if isinstance(outcomes[0], UserMessageRejected):
            if answers:
                found.append(f"{where}: rejected ({outcomes[0].reason}) but answered")
            continue
        turns = [
            e.turn_id
            for e in events
            if isinstance(e, TurnStarted) and sent.message_id in e.input_message_ids
        ]
        if not turns:
            found.append(f"{where}: accepted but no turn started for it")
            continue
        last: Any = None
        for turn_id in dict.fromkeys(turns):
            ends = [e for e in events if isinstance(e, TERMINAL) and e.turn_id == turn_id]
            if len(ends) != 1:
                found.append(f"{where}: turn {turn_id} has {len(ends)} terminal events (want 1)")
            last = ends[-1] if ends else None
        if isinstance(last, TurnCompleted) and len(answers) != 1:
            sends = _answer_sends(telegram, token, sent.user_id, sent.token)
            shown = (
                [
                    Shown(m.message_id, m.text or "", at)
                    for m, at in zip(answers, sends, strict=True)
                ]
                if len(sends) == len(answers)
                else []  # a send of it failed or the chat lost one: no redelivery to judge
            )
            named = {
                i for e in events if isinstance(e, TurnCompleted) for i in e.telegram_message_ids
            }
            if len(set(turns)) == 1 and redelivery(
                shown,
                last.telegram_message_ids,
                named,
                witness.kills.get(ANSWERING_SERVICE, ()),
                witness.asked(sent.token),
            ):
                redelivered.append(
                    f"{where}: turn {last.turn_id} answered twice, its worker killed between"
                )
            else:
                found.append(f"{where}: turn completed but {len(answers)} answers in the chat")
        elif last is not None and not isinstance(last, TurnCompleted) and len(answers) > 1:
            found.append(f"{where}: turn {type(last).__name__} with {len(answers)} answers")
    return found, redelivered


def charge_violations(log: LogView) -> list[str]:
    """Every consumed model call debited exactly once; no debit without a source."""
    found: list[str] = []
    debits: dict[str, set[str]] = defaultdict(set)
    for e in log.ledger:
        if isinstance(e, UsageDebited):
            debits[e.source_event_id].add(e.operation_id)
    sources: set[str] = set()
    for e in log.events:
        usage: Usage | None = None
        if isinstance(e, AssistantMessageCompleted):
            usage = e.usage
        elif isinstance(e, TurnFailed | TurnCancelled):
            usage = e.partial_usage
        if usage is None:
            continue
        sources.add(e.id)
        n = len(debits.get(e.id, ()))
        if _consumed(usage) and n != 1:
            found.append(f"{type(e).__name__} {e.id} ({e.key}): {n} debits (want 1)")
        elif not _consumed(usage) and n > 1:
            found.append(f"{type(e).__name__} {e.id} ({e.key}): {n} debits of nothing")
    thread_sources = {"model_call", "cancelled_call", "failed_call"}
    for e in log.ledger:
        if (
            isinstance(e, UsageDebited)
            and e.source in thread_sources
            and e.source_event_id not in sources
        ):
            found.append(f"debit {e.operation_id} names unknown source {e.source_event_id}")
    return found


def payment_violations(
    log: LogView, record: RunRecord, telegram: TelegramEmulator, token: str
) -> list[str]:
    """Each payment credited once; each refund debited and paid out at most once."""
    found: list[str] = []
    refunds = list(telegram.bot(token).refunds)
    for paid in record.payments:
        charge = paid.charge_id
        credits = {
            e.operation_id
            for e in log.ledger
            if isinstance(e, PaymentCredited) and e.telegram_payment_charge_id == charge
        }
        if len(credits) != 1:
            found.append(f"payment {charge}: credited {len(credits)} times (want 1)")
        debits = {
            e.operation_id
            for e in log.ledger
            if isinstance(e, RefundDebited) and e.telegram_payment_charge_id == charge
        }
        reversals = {
            e.operation_id
            for e in log.ledger
            if isinstance(e, RefundReversed) and e.telegram_payment_charge_id == charge
        }
        paid_out = [r for r in refunds if r.charge_id == charge]
        if len(debits) > 1:
            found.append(f"payment {charge}: refund debited {len(debits)} times")
        if len(paid_out) > 1:
            found.append(f"payment {charge}: refunded by Telegram {len(paid_out)} times")
        if debits and not reversals and not paid_out:
            found.append(f"payment {charge}: refund debited but never paid out nor reversed")
        if paid_out and reversals:
            found.append(f"payment {charge}: refunded by Telegram and credited back too")
        if paid_out and not debits:
            found.append(f"payment {charge}: refunded by Telegram without a ledger debit")
    return found


def balance_violations(log: LogView) -> list[str]:
    """Per user: the applied amounts sum to the last balance_after, and no operation twice."""
    found: list[str] = []
    total: dict[int, Decimal] = defaultdict(Decimal)
    last: dict[int, Decimal] = {}
    applied: dict[str, int] = defaultdict(int)
    for e in log.ledger:
        if not hasattr(e, "balance_after") or isinstance(e, OperationRejected):
            continue
        total[e.user_id] += e.amount
        last[e.user_id] = e.balance_after
        applied[e.operation_id] += 1
    for user, balance in last.items():
        if balance != total[user]:
            found.append(f"user {user}: ledger sums to {total[user]}, balance_after {balance}")
    found += [f"operation {op} applied {n} times" for op, n in applied.items() if n > 1]
    return found


def run_settled(
    log: LogView,
    record: RunRecord,
    telegram: TelegramEmulator,
    token: str,
    witness: Witness | None = None,
) -> bool:
    """The run's effects have all landed: every message has an outcome, every consumed
    call of its users a debit, every payment its credit and every refund asked its outcome
    (a payments process restarted after a kill -9 pays a refund out a minute later under
    load) (``log`` is the run's users' share, see LogView.of_users)."""
    return not (
        message_violations(log, record, telegram, token, witness)
        or charge_violations(log)
        or payment_violations(log, record, telegram, token)
    )


def check_run(
    log: LogView,
    record: RunRecord,
    telegram: TelegramEmulator,
    token: str,
    witness: Witness | None = None,
) -> Verdict:
    """The invariants of the module doc over one run's users (their share of the log);
    ``witness`` tells a redelivery from an answer given twice."""
    verdict = Verdict()
    violations, redelivered = _message_outcomes(log, record, telegram, token, witness or Witness())
    verdict.add(violations)
    verdict.redelivered += redelivered
    verdict.add(charge_violations(log))
    verdict.add(payment_violations(log, record, telegram, token))
    verdict.add(balance_violations(log))
    return verdict


async def projections_caught_up(endpoints: Endpoints, profile: BrokerProfile) -> bool:
    """Every projection has applied every record (what ``botctl verify`` compares)."""
    lags = await lag(endpoints, profile=profile, publish_metrics=False)
    return all(p.records == 0 for p in lags)


def _one_broadcast(
    sent: SentBroadcast,
    admin: list[Any],
    deliveries: list[Any],
    telegram: TelegramEmulator,
    token: str,
) -> list[str]:
    where = f"broadcast {sent.token}"
    asked = {r.announcement_id for r in admin if isinstance(r, AnnouncementRequested)
             and r.text.endswith(sent.token)}  # fmt: skip
    if len(asked) != 1:
        return [f"{where}: {len(asked)} announcements recorded (want 1)"]
    aid = asked.pop()
    outcomes: dict[int, list[DeliveryRecorded]] = defaultdict(list)
    for r in deliveries:
        if isinstance(r, DeliveryRecorded) and r.announcement_id == aid:
            outcomes[r.user_id].append(r)
    if not sent.confirmed:  # never confirmed: nobody may have been sent it
        shown = [u for u in sent.recipients if bot_text_with(telegram, token, u, sent.token)]
        if outcomes or shown:
            return [f"{where}: never confirmed, yet {len(outcomes)} outcomes, shown to {shown}"]
        return []
    found: list[str] = []
    for user in sent.recipients:
        shown = sum(sent.token in (m.text or "") for m in telegram.bot_messages(user, token=token))
        mine = outcomes.get(user, [])
        if shown > 1:
            found.append(f"{where}: user {user} got it {shown} times")
        if len(mine) != 1:
            found.append(f"{where}: user {user} has {len(mine)} outcomes (want 1)")
            continue
        outcome = mine[0]
        if shown and outcome.outcome != "sent" and not outcome.outcome_unknown:
            found.append(f"{where}: user {user} was shown it, recorded {outcome.outcome}")
        if outcome.outcome == "sent" and not shown:
            found.append(f"{where}: user {user} recorded sent, not shown it")
        # an interrupted send (the broadcaster killed mid-request) is recorded failed with
        # its outcome unknown whatever the chat: it is never sent again
        if not outcome.outcome_unknown and (user in sent.blocked) != (outcome.outcome == "blocked"):
            found.append(f"{where}: user {user} recorded {outcome.outcome}")
    ends = [r for r in deliveries if isinstance(r, BroadcastFinished) and r.announcement_id == aid]
    kinds = [outcomes[u][0].outcome for u in sent.recipients if len(outcomes.get(u, [])) == 1]
    counts = (kinds.count("sent"), kinds.count("failed"), kinds.count("blocked"))
    if len(ends) != 1 or (ends[0].sent, ends[0].failed, ends[0].blocked) != counts:
        found.append(f"{where}: {len(ends)} finished records, counts {counts}")
    return found


def broadcast_violations(
    record: RunRecord,
    admin: list[Any],
    deliveries: list[Any],
    telegram: TelegramEmulator,
    token: str,
) -> list[str]:
    """Each announcement of the run at most once per recipient, each recipient settled
    (``admin`` and ``deliveries``: the admin and broadcast topics' records)."""
    return [v for b in record.broadcasts
            for v in _one_broadcast(b, admin, deliveries, telegram, token)]  # fmt: skip


async def check_all(
    endpoints: Endpoints,
    profile: BrokerProfile,
    log: LogView,
    expected_dead_letters: frozenset[tuple[str, int, int]] = frozenset(),
) -> Verdict:
    """Over the whole log, at a quiet moment (the projections caught up): every charge and
    every balance, ``botctl verify`` (rebuild = live, ledger invariants), and no dead
    letter but ``expected_dead_letters`` (topic, partition, offset)."""
    verdict = Verdict()
    verdict.add(charge_violations(log))
    verdict.add(balance_violations(log))
    report = await verify(endpoints, profile=profile)
    verdict.add(f"botctl verify: {d}" for d in report.differences)
    verdict.add(
        f"dead letter: {d.describe()}"
        for d in report.dead_letters
        if (d.topic, d.partition, d.offset) not in expected_dead_letters
    )
    return verdict


STREAM_METHODS = frozenset({"sendMessageDraft", "sendMessage", "editMessageText"})
"""The Bot API calls that show a turn's answer growing (drafts, edits) or arriving."""


@dataclass(frozen=True, slots=True)
class TurnStream:
    """When a message was sent and each time its answer visibly moved, up to the answer."""

    token: str
    times: tuple[float, ...]

    @property
    def longest_pause(self) -> float:
        return max((b - a for a, b in pairwise(self.times)), default=0.0)

    def pause_beyond(self, windows: Iterable[tuple[float, float]]) -> float:
        """The longest pause less the part of it that fell within ``windows`` (restarts)."""
        spans = list(windows)
        return max(
            (b - a - sum(max(0.0, min(b, w1) - max(a, w0)) for w0, w1 in spans)
             for a, b in pairwise(self.times)),
            default=0.0,
        )  # fmt: skip


def turn_streams(record: RunRecord, telegram: TelegramEmulator, token: str) -> list[TurnStream]:
    """Each answered message's stream, from the Telegram emulator's call log (the time of
    every draft, edit and message the bot sent to that chat between the question and the
    message holding the answer)."""
    calls: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    log = telegram.bot(token).calls  # appended in time order
    since = min((sent.sent_at for sent in record.messages), default=0.0)
    for call in log[bisect_left(log, since, key=lambda c: c.at) :]:
        if call.method in STREAM_METHODS and call.error is None:
            chat = str(call.params.get("chat_id"))
            calls[chat].append((call.at, call.method, str(call.params.get("text", ""))))
    return [s for sent in record.messages if (s := _stream(sent, calls[str(sent.user_id)]))]


def _stream(sent: SentMessage, calls: list[tuple[float, str, str]]) -> TurnStream | None:
    after = [c for c in calls if c[0] >= sent.sent_at]
    answer = next((c for c in after if c[1] == "sendMessage" and sent.token in c[2]), None)
    if answer is None:
        return None
    times = [sent.sent_at, *(c[0] for c in after if c[0] <= answer[0])]
    return TurnStream(sent.token, tuple(sorted(times)))
