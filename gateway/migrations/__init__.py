"""Versioned schema migrations for the stores (audit log, applications, schema registry).

Each store owns an ordered list of raw-SQL migrations (``gateway.migrations.audit`` and siblings);
``gateway.migrations.runner`` applies the pending ones in one transaction under a lock and records
each in ``jamajama_schema_versions``. Embedded SQLite stores migrate when they open; PostgreSQL
stores refuse an older schema unless ``migrate_at_start`` is set, so that a cluster migrates once,
explicitly (``jamajama migrate``). See docs/configuration.md, "Schema migrations".
"""
