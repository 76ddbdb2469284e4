"""Why the job runner refuses a job: each a ``ValueError`` whose message the student reads."""


class QueueFull(ValueError):
    """The queue already holds ``max_queue`` waiting jobs."""


class OwnerBusy(ValueError):
    """The owner already has a queued or running job."""


class ClientBusy(ValueError):
    """The client address already has ``max_per_client`` queued or running jobs."""
