"""Persistence for a classroom server: one database of students, runs and the shared result cache.

``database`` (engine, schema, migrations, ``StorageError``), ``students`` (tokens, of which only
a hash is stored), ``runs`` (one student's runs: ``DatabaseRunStore``) and ``result_cache``
(keys of runs already trained, and the live runs identical requests join).
"""

from kdlab.store.database import Database, StorageError, database_url, open_database
from kdlab.store.runs import DatabaseRunStore
from kdlab.store.students import Student, create_student, find_student, is_valid_token, new_token

__all__ = [
    "Database",
    "DatabaseRunStore",
    "StorageError",
    "Student",
    "create_student",
    "database_url",
    "find_student",
    "is_valid_token",
    "new_token",
    "open_database",
]
