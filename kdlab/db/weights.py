"""Run weights, stored once per distinct blob and referenced by (run, role).

A cache hit copies a run, weights included, into another student's runs: with one row per blob
(``weight_blobs``, keyed by the blob's sha256) the copy adds two small ``weight_refs`` rows instead
of two more copies of the megabytes (about 15 MB for ``mlp-1200x3``). Every function takes the
connection of the caller's write transaction.

Concurrency on PostgreSQL (READ COMMITTED, replicas writing at once): a writer that references a
blob first holds it with ``FOR KEY SHARE`` (inserting it, insert-or-nothing, when it is missing), so
a concurrent delete of that blob waits for the writer's commit; a delete is only ever tried inside
a savepoint, and the foreign key from ``weight_refs`` refuses it while any committed reference
exists. A blob is therefore never deleted under a reference; at worst an unreferenced one is kept
until the next drop touches it. On SQLite every write transaction holds the database's one write
lock, so none of this can interleave.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from sqlalchemy import Connection, delete, exists, select
from sqlalchemy.exc import IntegrityError, OperationalError

from kdlab.db.schema import insert_or_not, weight_blobs, weight_refs

log = logging.getLogger(__name__)
ROLES = ("student", "baseline")  # RunRecord.student_weights, RunRecord.baseline_weights


class StoredBlob(bytes):
    """Weights read from the database, which know their digest: a cache hit files them again without
    hashing them again (30 MB of weights a run of mlp-1200x3)."""

    digest: str


def digest_of(data: bytes) -> str:
    """The sha256 (hex) that names a blob: the one it was stored under, or computed."""
    known = getattr(data, "digest", None)
    return known if isinstance(data, StoredBlob) and known else hashlib.sha256(data).hexdigest()


def _stored(data: bytes, digest: str) -> StoredBlob:
    blob = StoredBlob(data)
    blob.digest = digest
    return blob


def _held(connection: Connection, digest: str) -> bool:
    """True when the blob exists, and from now until this transaction ends no one can delete it."""
    query = select(weight_blobs.c.digest).where(weight_blobs.c.digest == digest)
    return connection.execute(query.with_for_update(read=True, key_share=True)).first() is not None


def refer(connection: Connection, run_id: str, role: str, data: bytes) -> str:
    """Make ``data`` the ``role`` weights of run ``run_id``: a reference to its blob, stored first if it is
    new (a blob already there is not sent again). Returns the digest."""
    digest = digest_of(data)
    # A blob deleted between our insert-or-nothing and our hold is inserted again; after three rounds the
    # reference's foreign key fails the transaction rather than point at nothing.
    for _ in range(3):
        if _held(connection, digest):
            break
        statement = insert_or_not(connection, weight_blobs).values(digest=digest, data=data, size=len(data))
        connection.execute(statement.on_conflict_do_nothing())
    connection.execute(weight_refs.insert().values(run_id=run_id, role=role, digest=digest))
    return digest


def weights_of(connection: Connection, run_id: str) -> dict[str, bytes]:
    """The run's weights by role (a role without weights is absent)."""
    query = (
        select(weight_refs.c.role, weight_blobs.c.data, weight_blobs.c.digest)
        .join(weight_blobs, weight_blobs.c.digest == weight_refs.c.digest)
        .where(weight_refs.c.run_id == run_id)
    )
    return {role: _stored(data, digest) for role, data, digest in connection.execute(query).all()}


def drop(connection: Connection, run_ids) -> int:
    """Remove every weights reference of the runs ``run_ids`` (a list or a select of ids), then every blob
    of theirs that no run refers to any more; returns the blobs deleted."""
    where = weight_refs.c.run_id.in_(run_ids)
    digests = connection.execute(select(weight_refs.c.digest).where(where).distinct()).scalars().all()
    if not digests:
        return 0
    connection.execute(delete(weight_refs).where(where))
    return delete_unreferenced(connection, digests)


def delete_unreferenced(connection: Connection, digests: Iterable[str]) -> int:
    """Delete those of the blobs ``digests`` that no run refers to; returns how many went."""
    deleted = 0
    for digest in sorted(set(digests)):  # one order in every process: two droppers never wait on each other in a circle
        unreferenced = ~exists().where(weight_refs.c.digest == digest)
        try:
            with connection.begin_nested():
                deleted += connection.execute(
                    delete(weight_blobs).where(weight_blobs.c.digest == digest, unreferenced)
                ).rowcount
        except (IntegrityError, OperationalError) as error:  # referenced meanwhile (or held past the lock timeout)
            log.info("weights blob %s kept: %s", digest[:12], type(getattr(error, "orig", error)).__name__)
    return deleted
