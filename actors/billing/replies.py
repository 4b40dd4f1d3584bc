"""What billing says to people: balance reports, refusals, confirmations (plain text), in the
language passed first to each function (texts in :mod:`actors.texts`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from actors.billing import policy
from actors.billing.policy import format_usd
from actors.texts import Language, say

REFUSAL_REASONS: Final = frozenset(
    {
        "refund_window_expired",
        "balance_too_low",
        "unknown_payment",
        "not_payer",
        "already_refunded",
    }
)
"""Refund refusals with their own text (``refusal.<reason>``)."""
DETAILED_REFUSALS: Final = frozenset(
    {"refund_window_expired", "balance_too_low", "unknown_payment"}
)
"""Refund refusals worded with their specifics (``refusal_detail.<reason>``)."""

OPERATION_KINDS: Final = frozenset(
    {
        "usage_debited",
        "payment_credited",
        "refund_debited",
        "refunded_payment_debited",
        "refund_reversed",
        "starter_credit_granted",
        "admin_topped_up",
        "operation_rejected",
    }
)
"""Ledger entry kinds ``/balance`` names (``operation.<kind>``)."""

PLAIN_KINDS: Final = frozenset({"starter_credit_granted", "admin_topped_up", "refund_reversed"})
"""Kinds whose text takes no subject (a subject, if any, follows after a colon)."""

USAGE_SOURCES: Final = frozenset({"turn", "tool", "cancelled_call"})


class Line(Protocol):
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def subject(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def reference(self) -> str: ...


def signed_usd(amount: Decimal) -> str:
    if not amount.is_finite():
        return f"${amount}"
    return ("+" if amount >= 0 else "-") + "$" + format_usd(abs(amount))


def operation(
    language: Language, kind: str, subject: str, source: str = "", reference: str = ""
) -> str:
    """One ledger operation for people: its kind in words, its language-neutral subject (a
    model or tool, a number of Stars, a reason) and transaction id."""
    kind = kind.removeprefix("ledger.")
    if kind == "usage_debited":
        where = (
            say(language, f"operation.source.{source}")
            if source in USAGE_SOURCES
            else say(language, "operation.usage")
        )
        text = say(language, "operation.usage_debited", source=where, subject=subject or "-")
    elif kind in PLAIN_KINDS:
        text = say(language, f"operation.{kind}")
        text = f"{text}: {subject}" if subject else text
    elif kind in OPERATION_KINDS:
        text = say(language, f"operation.{kind}", subject=subject)
    else:
        text = say(language, "operation.other", subject=subject or kind)
    return f"{text} ({reference})" if reference else text


def balance_report(language: Language, balance: Decimal | None, lines: Sequence[Line]) -> str:
    if balance is None:
        return say(language, "billing.no_balance")
    text = say(language, "billing.balance", balance=format_usd(balance))
    if not balance.is_finite() or balance <= 0:
        text += "\n" + say(language, "billing.paused")
    if lines:
        text += "\n\n" + say(language, "billing.recent")
        for line in lines:
            what = operation(language, line.kind, line.subject, line.source, line.reference)
            text += f"\n{line.occurred_at:%Y-%m-%d %H:%M} {signed_usd(line.amount)} {what}"
    return text


def paysupport(language: Language) -> str:
    return say(language, "billing.paysupport", days=policy.REFUND_WINDOW.days)


def pay_prompt(language: Language) -> str:
    return say(language, "billing.pay_prompt")


def payment_received(language: Language, stars: int, usd: Decimal, charge_id: str) -> str:
    return say(
        language, "billing.payment_received", stars=stars, usd=format_usd(usd), charge_id=charge_id
    )


def refund_usage(language: Language) -> str:
    return say(language, "billing.refund_usage")


def refund_requested(language: Language, charge_id: str) -> str:
    return say(language, "billing.refund_requested", charge_id=charge_id)


def refund_refused(
    language: Language,
    charge_id: str,
    reason: str,
    detail: str,
    values: Mapping[str, str] | None = None,
) -> str:
    """A refund the ledger refused, and why: with the record's ``values`` (its specifics:
    dates, amounts), ``refusal_detail.<reason>`` worded in ``language``; without them (older
    records) the ledger's English detail in English, another language's text of the reason
    (a reason without one: the detail)."""
    if values is not None and reason in DETAILED_REFUSALS:
        try:
            why = say(language, f"refusal_detail.{reason}", **values)
        except KeyError:  # a record missing a value: the plainer wording below
            why = ""
        if why:
            return say(language, "billing.refund_refused", charge_id=charge_id, why=why)
    if reason in REFUSAL_REASONS and not (language == "en" and detail):
        why = say(language, f"refusal.{reason}")
    else:
        why = detail or reason.replace("_", " ")
    return say(language, "billing.refund_refused", charge_id=charge_id, why=why)


def refund_done(language: Language, stars: int, amount: Decimal, charge_id: str) -> str:
    return say(
        language,
        "billing.refund_done",
        stars=stars,
        charge_id=charge_id,
        amount=signed_usd(-abs(amount)),
    )


def refund_failed(language: Language, charge_id: str, detail: str) -> str:
    return say(language, "billing.refund_failed", charge_id=charge_id, detail=detail)


def custom_amount_invalid(language: Language, problem: str) -> str:
    return say(language, "billing.custom_amount_invalid", problem=problem)


def stale_button(language: Language) -> str:
    return say(language, "billing.stale_button")


def not_admin(language: Language) -> str:
    return say(language, "billing.not_admin")


def topup_usage(language: Language) -> str:
    return say(language, "billing.topup_usage")


def set_margin_usage(language: Language) -> str:
    return say(language, "billing.set_margin_usage")


def refused(language: Language, problem: str) -> str:
    return say(language, "billing.refused", problem=problem)


def unknown_user(language: Language, target: str) -> str:
    return say(language, "billing.unknown_user", target=target)


def current_margin(language: Language, owner_margin: Decimal) -> str:
    return say(language, "billing.current_margin", margin=owner_margin)


def margin_set(language: Language, owner_margin: Decimal) -> str:
    usd = policy.stars_to_usd(100, owner_margin)
    return say(language, "billing.margin_set", margin=owner_margin, usd=format_usd(usd))


def top_up_requested(language: Language, user_id: int, amount: Decimal, operation_id: str) -> str:
    return say(
        language,
        "billing.top_up_requested",
        amount=signed_usd(amount),
        user_id=user_id,
        operation_id=operation_id,
    )


def set_cache_subsidy_usage(language: Language) -> str:
    return say(language, "billing.set_cache_subsidy_usage")


def cache_subsidy_shown(language: Language, on: bool) -> str:
    """``/set_cache_subsidy`` without an argument: the current setting and the usage."""
    state = say(language, "billing.cache_subsidy_on" if on else "billing.cache_subsidy_off")
    return f"{state}\n{set_cache_subsidy_usage(language)}"


def cache_subsidy_set(language: Language, on: bool) -> str:
    return say(language, "billing.cache_subsidy_set_on" if on else "billing.cache_subsidy_set_off")
