"""kdlab classroom app: ``streamlit run app.py``.

The entry point builds the navigation and the shared sidebar, and leaves one CPU core to the
web server; each page lives in ``pages/`` and the Streamlit helpers in ``kdlab/ui/``. Pages written by others
(paper replays, training schemes) join the navigation when their files exist.
"""

from pathlib import Path

import streamlit as st

from kdlab import ui

HERE = Path(__file__).parent

st.set_page_config(page_title="kdlab: knowledge distillation lab", page_icon=":material/school:", layout="wide")
ui.leave_a_core_to_the_server()

sections = {
    "Learn": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/dark_knowledge.py", title="Dark knowledge explorer", icon=":material/thermostat:"),
    ],
    "Experiment": [
        st.Page("pages/distillation_lab.py", title="Distillation lab", icon=":material/science:"),
        st.Page("pages/runs.py", title="Runs", icon=":material/table_chart:"),
    ],
}
optional = [("pages/paper_replays.py", "Paper replays", ":material/menu_book:"),
            ("pages/training_schemes.py", "Training schemes", ":material/account_tree:")]
further = [st.Page(path, title=title, icon=icon) for path, title, icon in optional if (HERE / path).exists()]
if further:
    sections["Go further"] = further

page = st.navigation(sections)
ui.render_sidebar()
page.run()
