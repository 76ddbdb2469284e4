"""Serving a class: settings, the job runner (threads, stacks of look-alike runs, or Ray), job targets, the Train
request, live runs, limits.

May import every library layer below it (``ml``, ``teachers``, ``experiments``, ``runs``, ``db``)."""
