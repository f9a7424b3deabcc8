"""What a Markdown string would make active in the browser (links, images, tags with URLs or handlers).

Streamlit renders Markdown with remark-gfm, which also turns bare URLs and e-mail addresses into links
(even backslash-escaped ones: remarkjs/remark-gfm#33), so the text that comes out is searched for
them too. The CommonMark rendering is markdown-it-py's (installed with rich). Not a test module itself.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

# remark-gfm's literal autolinks (mdast-util-gfm-autolink-literal), run on the decoded text
AUTOLINK = re.compile(r"(?i)(?:https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(?:\.[-\w]+)+")
ACTIVE_TAGS = {"a", "img", "script", "iframe", "object", "embed", "link", "form", "svg", "video", "audio",
               "source", "base", "meta", "style"}
URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "poster", "background", "data"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.active: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and [(n, v) for n, v in attrs if n in URL_ATTRS or n.startswith("on")] == \
                [("href", v) for n, v in attrs if n == "href" and re.fullmatch(r"#[-\w]+", v or "")]:
            return  # a link to an element of the same page ([n] → its source card): goes nowhere else
        if tag in ACTIVE_TAGS:
            self.active.append(f"<{tag} {dict(attrs)}>")
        for name, value in attrs:
            if name.startswith("on") or (name in URL_ATTRS and value):
                self.active.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):
        self.active += [f"autolink {m.group(0)}" for m in AUTOLINK.finditer(data)]


def active_markup(markdown: str, *, allow_html: bool = False) -> list[str]:
    """Links, images, active tags/attributes and bare URLs in the rendering of ``markdown`` ([] = inert).

    ``allow_html`` mirrors ``unsafe_allow_html=True`` (raw HTML passes through).
    """
    md = MarkdownIt("commonmark", {"html": allow_html}).enable(["table", "strikethrough"])
    collector = _Collector()
    collector.feed(md.render(markdown or ""))
    return collector.active


def element_texts(at) -> list[tuple[str, str, bool]]:
    """``(kind, markdown, html_allowed)`` for every element of an AppTest run that renders Markdown."""
    out = []
    for kind in ("markdown", "caption", "warning", "info", "error", "success", "title", "header", "subheader",
                 "exception"):
        for el in getattr(at, kind, []):
            value = getattr(el, "value", None) or getattr(el, "message", "")
            allow = bool(getattr(getattr(el, "proto", None), "allow_html", False))
            out.append((kind, str(value), allow))
    for kind in ("button", "expander", "tabs", "radio", "toggle", "checkbox", "text_input", "selectbox"):
        for el in getattr(at, kind, []):
            out.append((f"{kind} label", str(getattr(el, "label", "")), False))
            if kind == "radio":
                out += [("radio option", str(o), False) for o in el.options]
            help_text = getattr(el, "help", None)
            if help_text:
                out.append((f"{kind} help", str(help_text), False))
    return out


def active_in_app(at) -> list[str]:
    """Every active link/image/tag the rendered elements of an AppTest run would produce."""
    return [f"{kind}: {found}" for kind, text, allow in element_texts(at)
            for found in active_markup(text, allow_html=allow)]
