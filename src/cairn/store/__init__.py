"""Persistence: SQLAlchemy tables, Alembic migrations, the event log and its projections.

Repositories here never commit: the unit of work (:class:`cairn.store.uow.Store`) does.
"""
