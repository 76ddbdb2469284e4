"""kdlab classroom app: ``streamlit run app.py``.

The entry point builds the navigation (``kdlab.ui.pages``, from the table in ``kdlab.classroom.pages``) and the shared sidebar, and
leaves one CPU core to the web server; each page lives in ``pages/`` and the Streamlit helpers
in ``kdlab/ui/``.

Streamlit runs this file as ``__main__``; multiprocessing's spawn runs it again as ``__mp_main__`` in each
of the server's training workers (``kdlab.serve.process_runner``), which need none of it: hence the guard.
"""

if __name__ == "__main__":
    import streamlit as st

    from kdlab import ui
    from kdlab.ui.pages import navigation

    st.set_page_config(page_title="kdlab: knowledge distillation lab", page_icon=":material/school:", layout="wide")
    ui.require_valid_settings()  # before anything reads them: a bad KDLAB_* variable is a message, not a traceback
    ui.leave_a_core_to_the_server()
    page = navigation()
    ui.render_sidebar()
    ui.student_token()  # every run of every page: a navigation link drops ?s=, this puts it back (creating no one)
    page.run()
