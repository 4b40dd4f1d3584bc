"""Projector processes: consume the log, write the read models exactly once, fill the caches.

Entry points for ``botctl``: :func:`infra.projector.runner.run_projector`,
:func:`infra.projector.replay.replay`, :func:`infra.projector.verify.verify`,
:func:`infra.projector.lag.lag`; reports live in :mod:`infra.reports`.
"""
