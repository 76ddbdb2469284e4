"""Glossary: the words the app uses, for a student with some Python and no machine learning.

Thin page: the introduction, then ``kdlab.ui.glossary_page.render_glossary_page``.
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.glossary_page import render_glossary_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Glossary"))
st.markdown(_("The words this app uses, each in a sentence or two. A word underlined elsewhere in the app links here."))
render_glossary_page()
