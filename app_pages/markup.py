"""Escaping of user- and document-controlled text for the two targets the app renders: Markdown and
HTML inside Markdown (``unsafe_allow_html``). No Streamlit import; the pages use the wrappers in
``app_pages/text.py``.

Streamlit renders both with remark-gfm, which turns bare URLs and e-mail addresses into links even when
they are backslash-escaped (remarkjs/remark-gfm#33), so both helpers also break those patterns with an
invisible WORD JOINER (U+2060): ``http⁠://…``, ``www⁠.…``, ``a@⁠b.cn`` stay readable text.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
# scheme colons (http:, mailto:, javascript: …), "www." and "@" are what remark-gfm autolinks
_AUTOLINK_TRIGGERS = re.compile(r"(?i)(?<=[a-z])(?=:)|(?<=www)(?=\.)|(?<=@)")
# one pass: HTML's five, then Markdown/LaTeX markers as numeric references (a second pass over the
# output would mangle the references of the first)
_HTML_TABLE = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "\n": "<br>",
    **{ch: f"&#{ord(ch)};" for ch in "$~*_`[]#:\\|"},
})
# ASCII punctuation that starts Markdown, GFM or Streamlit syntax (links, images, HTML, code, emphasis,
# headings, quotes, tables, LaTeX, :directives:, entities); list markers (- + 1.) only change layout
_MD_ALL = re.compile(r"([\\`*_{}\[\]()<>#!|~$:&@])")
# the same minus what the answerer's own layout uses (**bold**, "> " quotes); ">" is escaped where it
# does not start a line
_MD_LAYOUT_SAFE = re.compile(r"([\\`{}\[\]()<#!|~$:&@])|(?<!^)(?<!\n)(>)")


def defuse_autolinks(text: str) -> str:
    """``text`` with an invisible WORD JOINER where GFM would start a bare-URL or e-mail link."""
    return _AUTOLINK_TRIGGERS.sub(WORD_JOINER, text)


def escape_markdown(text: str, *, formatted: bool = False) -> str:
    """Text for a Markdown element (st.markdown/caption/warning…, widget labels): nothing in it becomes a
    link, image, HTML, code, heading, LaTeX or directive.

    ``formatted=True`` is for Markdown the answerer composed around quoted document text (``**lead**``,
    ``> quote [1]``, numbered lists): emphasis, quote and list markers keep working; links and the rest
    do not.
    """
    pattern = _MD_LAYOUT_SAFE if formatted else _MD_ALL
    return pattern.sub(lambda m: "\\" + (m.group(1) or m.group(2)), defuse_autolinks(text or ""))


def escape_html(text: str) -> str:
    """HTML-escape for st.markdown(unsafe_allow_html=True); also neutralise Markdown/LaTeX markers."""
    return defuse_autolinks(text or "").translate(_HTML_TABLE)

