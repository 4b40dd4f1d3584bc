"""The ``/pay`` flow as pure functions: packages, custom amounts, invoice payloads and
pre-checkout validation. The aiogram routers call these and hold no rules of their own.

Invoice payload (at most 128 bytes, returned unchanged by Telegram in the pre-checkout query
and the successful payment): ``xtr1:{user_id}:{order_id}:{stars}:{owner_margin}``. It names
the user and the order, and carries the quoted margin so the credit is computed at the
price the user was shown, whatever ``/set_margin`` did in between.

The custom-amount conversation keeps its state in the chat itself: the bot asks with a
ForceReply prompt and the user's *reply to that prompt* carries the answer, so the
conversation survives any restart of any process without a store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from actors import typed_numbers
from actors.billing import policy
from actors.texts import LANGUAGES, Language, say
from actors.texts.refusal import Term
from events.money import STARS_CURRENCY

PAYLOAD_PREFIX: Final = "xtr1"
CALLBACK_PREFIX: Final = "pay:"
CALLBACK_CUSTOM: Final = "pay:custom"


def custom_amount_prompt(language: Language) -> str:
    """The ForceReply question of the custom amount (its reply is the answer)."""
    return say(
        language,
        "billing.custom_prompt",
        low=policy.CUSTOM_STARS_MIN,
        high=policy.CUSTOM_STARS_MAX,
    )


_PROMPT_STARTS: Final = tuple(custom_amount_prompt(language)[:40] for language in LANGUAGES)
_PAYLOAD = re.compile(r"xtr1:([0-9]{1,20}):([0-9a-f]{32}):([0-9]{1,4}):([0-9]+(?:\.[0-9]+)?)")
_ORDER_ID = re.compile(r"[0-9a-f]{32}")


class PayloadError(ValueError):
    """An invoice payload this bot did not write."""


@dataclass(frozen=True, slots=True)
class InvoicePayload:
    user_id: int
    order_id: str
    stars: int
    owner_margin: Decimal

    def encode(self) -> str:
        return f"{PAYLOAD_PREFIX}:{self.user_id}:{self.order_id}:{self.stars}:{self.owner_margin:f}"


def parse_payload(text: str) -> InvoicePayload:
    match = _PAYLOAD.fullmatch(text)
    if match is None:
        raise PayloadError(f"not an invoice payload of this bot: {text[:40]!r}")
    user_id, order_id, stars, margin = match.groups()
    return InvoicePayload(int(user_id), order_id, int(stars), Decimal(margin))


def order_id_from(record_id: str) -> str:
    """The order id of an invoice: the id of the record that asked for it, as 32 hex digits."""
    order = record_id.replace("-", "").lower()
    if not _ORDER_ID.fullmatch(order):
        raise ValueError(f"not a UUID: {record_id!r}")
    return order


@dataclass(frozen=True, slots=True)
class Invoice:
    """What ``sendInvoice`` needs, plus the quote recorded in ``payments.invoice_issued``."""

    title: str
    description: str
    payload: InvoicePayload
    currency: str
    stars: int
    quoted_usd: Decimal
    price_label: str


def invoice_for(
    language: Language, user_id: int, stars: int, owner_margin: Decimal, order_id: str
) -> Invoice:
    """The invoice for ``stars`` at the current margin, worded in ``language``; raises
    ValueError when out of range."""
    problem = policy.stars_amount_problem(stars) or policy.margin_problem(owner_margin)
    if problem:
        raise ValueError(problem)
    usd = policy.stars_to_usd(stars, owner_margin)
    return Invoice(
        title=say(language, "billing.invoice_title", stars=stars),
        description=say(language, "billing.invoice_description", usd=policy.format_usd(usd)),
        payload=InvoicePayload(user_id, order_id, stars, owner_margin),
        currency=STARS_CURRENCY,
        stars=stars,
        quoted_usd=usd,
        price_label=say(language, "billing.invoice_label", stars=stars),
    )


def package_buttons(language: Language, owner_margin: Decimal) -> list[tuple[str, str]]:
    """``(label, callback data)`` for each package, then the custom amount."""
    buttons = [
        (
            say(
                language,
                "billing.package",
                stars=stars,
                usd=policy.format_usd(policy.stars_to_usd(stars, owner_margin)),
            ),
            f"{CALLBACK_PREFIX}{stars}",
        )
        for stars in policy.STAR_PACKAGES
    ]
    buttons.append((say(language, "billing.custom_button"), CALLBACK_CUSTOM))
    return buttons


def parse_package_callback(data: str) -> int | None:
    """Stars of a package button (``None`` for the custom button); ValueError otherwise."""
    if data == CALLBACK_CUSTOM:
        return None
    raw = data.removeprefix(CALLBACK_PREFIX)
    if raw == data or not raw.isdigit() or int(raw) not in policy.STAR_PACKAGES:
        raise ValueError(f"not a package: {data!r}")
    return int(raw)


def parse_custom_amount(text: str) -> int:
    """The Stars a user typed; ValueError with a message to show them otherwise."""
    raw = text.strip().replace("⭐", "").strip()
    return typed_numbers.parse_whole(
        raw,
        what=Term("number.what.amount"),
        low=policy.CUSTOM_STARS_MIN,
        high=policy.CUSTOM_STARS_MAX,
        unit=Term("number.unit.stars"),
    )


def is_custom_amount_prompt(text: str | None) -> bool:
    """Whether ``text`` is the custom amount question (in any language: the user may have
    switched languages since it was asked)."""
    return text is not None and text.startswith(_PROMPT_STARTS)


def amount_invalid(language: Language) -> str:
    """What to say about a custom amount :func:`parse_custom_amount` refused."""
    return say(
        language,
        "billing.amount_invalid",
        low=policy.CUSTOM_STARS_MIN,
        high=policy.CUSTOM_STARS_MAX,
    )


@dataclass(frozen=True, slots=True)
class PreCheckoutVerdict:
    ok: bool
    error_message: str | None = None
    payload: InvoicePayload | None = None


def check_pre_checkout(
    language: Language, *, payload: str, currency: str, total_amount: int, from_user_id: int
) -> PreCheckoutVerdict:
    """Validate a pre-checkout query: our payload, for this user, in XTR, the quoted amount
    (the refusal worded in ``language``: Telegram shows it to the payer)."""
    try:
        parsed = parse_payload(payload)
    except PayloadError:
        return PreCheckoutVerdict(False, say(language, "precheckout.stale"))
    if parsed.user_id != from_user_id:
        return PreCheckoutVerdict(False, say(language, "precheckout.not_yours"))
    if currency != STARS_CURRENCY:
        return PreCheckoutVerdict(False, say(language, "precheckout.currency"))
    if total_amount != parsed.stars:
        text = say(language, "precheckout.amount", paid=total_amount, stars=parsed.stars)
        return PreCheckoutVerdict(False, text)
    problem = policy.stars_amount_problem(parsed.stars) or policy.margin_problem(
        parsed.owner_margin
    )
    if problem:
        return PreCheckoutVerdict(False, say(language, "precheckout.unpayable"))
    return PreCheckoutVerdict(True, None, parsed)


def parse_refund_argument(text: str | None) -> str:
    """The transaction id of ``/refund <id>``; ValueError otherwise (answer with
    ``billing.refund_usage``)."""
    return typed_numbers.parse_token(
        text or "",
        what=Term("number.what.transaction_id"),
        usage=Term("billing.refund_usage"),
    )
