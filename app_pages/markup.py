"""Small text helpers shared by the Streamlit pages (no Streamlit import)."""

from __future__ import annotations

import html

_MD_ENTITIES = (("$", "&#36;"), ("~", "&#126;"), ("*", "&#42;"), ("_", "&#95;"), ("`", "&#96;"),
                ("[", "&#91;"), ("]", "&#93;"), ("#", "&#35;"))


def escape_html(text: str) -> str:
    """HTML-escape for st.markdown(unsafe_allow_html=True); also neutralise Markdown/LaTeX markers."""
    out = html.escape(text, quote=True)
    for ch, ent in _MD_ENTITIES:
        out = out.replace(ch, ent)
    return out.replace("\n", "<br>")

