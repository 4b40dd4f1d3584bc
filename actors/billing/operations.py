"""Operation ids: one per billing operation, derived from what the operation is about.

A retried producer derives the same id again, so the billing actor sees a repeat (a no-op)
instead of a second operation. Attempts that may legitimately happen more than once (a
second ``/refund`` after a refused one) carry the id of the request that caused them.
"""

from __future__ import annotations


def starter(user_id: int) -> str:
    return f"starter:{user_id}"


def usage(source_event_id: str, part: str = "") -> str:
    """A usage charge for the thread event that recorded the consumption."""
    return f"usage:{source_event_id}" + (f":{part}" if part else "")


def payment(telegram_payment_charge_id: str) -> str:
    """Crediting one Telegram payment: at most once, whatever the delivery does."""
    return f"payment:{telegram_payment_charge_id}"


def refund(telegram_payment_charge_id: str, request_id: str) -> str:
    """One ``/refund`` request (``request_id``: the id of the command that asked)."""
    return f"refund:{telegram_payment_charge_id}:{request_id}"


def refund_reversal(refund_operation_id: str) -> str:
    """Crediting back the refund debit ``refund_operation_id`` after Telegram refused it."""
    return f"refund-reversal:{refund_operation_id}"


def reversed_refund(refund_reversal_operation_id: str) -> str:
    """The refund operation a :func:`refund_reversal` operation id names (its inverse)."""
    return refund_reversal_operation_id.removeprefix(refund_reversal(""))


def top_up(request_id: str) -> str:
    return f"topup:{request_id}"


def reservation(turn_id: str, step: int) -> str:
    """The reservation of one model call: step ``step`` of turn ``turn_id``."""
    return f"{turn_id}:{step}"


def reserve(reservation_id: str) -> str:
    return f"reserve:{reservation_id}"


def release(reservation_id: str) -> str:
    return f"release:{reservation_id}"


def refunded_payment(telegram_payment_charge_id: str) -> str:
    """Debiting a payment Telegram reports refunded (``refunded_payment``): once per charge."""
    return f"refunded-payment:{telegram_payment_charge_id}"
