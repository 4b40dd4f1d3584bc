"""Billing: the pure decision logic of the per-user ledger (prices, policy, decide/evolve).

No I/O here: the billing worker (``infra/billing``) feeds commands in and appends the
records that :func:`actors.billing.ledger.decide` returns.
"""
