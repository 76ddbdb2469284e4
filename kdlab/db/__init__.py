"""The database of a classroom server: schema and migrations, students, and their stored runs.

``database`` (engine, upgrades, ``StorageError``), ``schema`` (the tables), ``migrations`` (one per
schema version), ``students`` (tokens, of which only a hash is stored), ``runs`` (one student's runs:
``DatabaseRunStore``, and the result-cache table), ``weights`` (each distinct blob once, referenced) and
``servers`` (the heartbeats by which replicas sharing the database know which of them are alive).
May import ``kdlab.ml`` and ``kdlab.runs``; never training, serving or the UI.
"""
