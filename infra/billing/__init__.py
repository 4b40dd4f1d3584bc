"""Billing adapters: the ledger worker, the payments process, replay, balance views."""
