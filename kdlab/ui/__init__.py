"""Streamlit only, for app.py and the pages; ``import kdlab`` never imports this package.

One module per concern, imported by name (``from kdlab.ui.explorer import render_explorer_page``): each page of
``pages/`` calls ``kdlab.ui.session.ensure_entrypoint`` and one renderer, ``render_<page>_page`` in ``home``,
``explorer``, ``lab_page``, ``runs_page``, ``replays_page``, ``schemes_page``, ``lessons_page``, ``board_page`` or
``glossary_page``.
The rest: ``pages`` (the navigation, from the library's table of pages), ``sidebar``, ``language`` (the session's
language, its control, the page's ``lang`` attribute), ``resources`` (the dataset
and trained teachers, shared read-only by every session), ``session`` (the settings check, the student's token,
their runs and job ids), ``client`` (the session and address that rate limits count), ``instructor_key``, ``lab``
(the lab's run: Train, live, cached, result), ``progress`` (the live view of a background job), ``widgets``,
``explorer_features`` (the explorer's look inside the teacher), renderers of each experiment's result, ``assignment`` (assignment links, the prediction, the share control),
``lesson_question`` (a lesson's question above the pages its steps open), ``sharing`` (the address students open, a
link with its QR code), ``lab_controls``, ``board`` and
``instructor``. This package's ``__init__`` imports nothing, so app.py draws the navigation before PyTorch loads. Everything works when a page runs alone under AppTest.
"""
