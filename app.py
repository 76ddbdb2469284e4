"""kdlab classroom app: ``streamlit run app.py``.

The entry point chooses the session's language (``kdlab.ui.language``), draws the navigation first (``kdlab.ui.pages``, from the table in ``kdlab.classroom.pages``: no
PyTorch needed, so a visitor sees the app's own navigation at once), then loads the rest, checks the settings,
leaves one CPU core to the web server, draws the shared sidebar and runs the page; each page lives in ``pages/``
and the Streamlit helpers in ``kdlab/ui/``.

Streamlit runs this file as ``__main__``; multiprocessing's spawn runs it again as ``__mp_main__`` in each
of the server's training workers (``kdlab.serve.process_runner``), which need none of it: hence the guard.
"""

if __name__ == "__main__":
    import streamlit as st

    from kdlab.i18n import _
    from kdlab.ui.language import choose_language, render_language_control
    from kdlab.ui.pages import navigation, render_navigation, starting_notice

    choose_language()  # before any words: ?lang=, the session's choice, the browser's, else English
    st.set_page_config(page_title=_("kdlab: knowledge distillation lab"), page_icon=":material/school:", layout="wide")
    page = navigation()
    render_navigation()
    render_language_control()
    with starting_notice():  # on a server's first visit: PyTorch and the pages' modules load here
        # Plotly imports pandas on the first figure it validates. When several sessions build their first
        # figures at once (a class's first live curves), the threads race on that import and some get a
        # half-imported pandas ("partially initialized module 'pandas' has no attribute 'Series'";
        # bench/soak.py, 5 students): imported here, once, before any page runs.
        import pandas  # noqa: F401

        from kdlab.ui.resources import leave_a_core_to_the_server
        from kdlab.ui.session import require_valid_settings, student_token
        from kdlab.ui.sidebar import render_sidebar

        require_valid_settings()  # before anything reads them: a bad KDLAB_* variable is a message, not a traceback
        leave_a_core_to_the_server()
        render_sidebar()
        student_token()  # every run of every page: a navigation link drops ?s=, this puts it back (creating no one)
        page.run()
