"""What every OPD subgraph shares.

- :mod:`.app` — ``federation_schema`` (Federation 2.9), ``Subgraph``, ``build_app`` (Starlette
  app serving ``/graphql`` and ``/health``), ``load`` (per-request batched loading);
- :mod:`.store` — the read-only SQLite store and its batched reads;
- :mod:`.loaders` — per-request DataLoaders;
- :mod:`.pagination` — ``Connection[T]`` pages with ``first``/``after`` and a cap;
- :mod:`.ids` and :mod:`.errors` — identifier formats, validation, stable error codes;
- :mod:`.generator` and :mod:`.reference` — the one deterministic data generator over real
  Lampung reference data.
"""
