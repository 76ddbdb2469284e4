"""Why the job runner refuses a job: each a ``ValueError`` whose message the student reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kdlab.serve.clients import is_visitor


class QueueFull(ValueError):
    """The queue already holds ``max_queue`` waiting jobs."""


class OwnerBusy(ValueError):
    """The owner already has a queued or running job."""


class ClientBusy(ValueError):
    """The client address already has ``max_per_client`` queued or running jobs."""


def check_client(unfinished: Sequence[Any], visitor: bool, max_per_client: int, max_visitor_per_client: int) -> None:
    """Refuse a client address's next job when its ``unfinished`` jobs (``kdlab.serve.runner.Job``) are
    ``max_per_client``, or, for a ``visitor``'s job, when ``max_visitor_per_client`` of them are visitors'.

    Raises:
        ClientBusy: with a message that says what to do.
    """
    if len(unfinished) >= max_per_client:
        raise ClientBusy(
            f"Your network already has as many runs queued or running as one network may ({len(unfinished)}): wait "
            "for one to finish (an instructor whose class shares one network raises KDLAB_MAX_JOBS_PER_CLIENT)."
        )
    visitors = sum(is_visitor(job.owner) for job in unfinished)
    if visitor and visitors >= max_visitor_per_client:
        raise ClientBusy(
            f"Your network already has {visitors} jobs queued or running from pages opened without a student "
            "code, as many as one network may: wait for one to finish, or press Train in the lab first (your "
            "jobs then count as your own). An instructor whose class shares one network raises "
            "KDLAB_MAX_VISITOR_JOBS_PER_CLIENT."
        )
