"""Deep links into the 文件阅读 reader page (no Streamlit import).

The reader understands ``?doc=<doc_id>&section=<chunk_id | breadcrumb | heading>`` (``chunk=`` is accepted
as a synonym of ``section=``; ``q=`` pre-fills the search box). Use :func:`reader_query_params` with
``st.page_link(READER_PAGE, query_params=…)`` or :func:`reader_link` for a Markdown/HTML link.
"""

from __future__ import annotations

from urllib.parse import urlencode

from policy_assistant.training.outline import path_key

READER_URL_PATH = "reader"  # the reader page's url_path (app_pages/main.py)


def reader_query_params(item) -> dict[str, str]:
    """``{"doc": doc_id, "section": chunk_id}`` for a Chunk, a citation dict or a QuizQuestion.

    Falls back to the breadcrumb path (``section=三、主要任务 › （五）… › 19.``) when there is no chunk id.
    """
    get = item.get if isinstance(item, dict) else (lambda k, default=None: getattr(item, k, default))
    doc_id = get("doc_id") or ""
    chunk_id = get("chunk_id") or ""
    if not doc_id and chunk_id:
        doc_id = chunk_id.rsplit("#", 1)[0]
    params = {"doc": doc_id}
    if chunk_id:
        params["section"] = chunk_id
    else:
        path = get("path") or ()
        if path:
            params["section"] = path_key(path)
    return params


def reader_link(item, page: str = READER_URL_PATH) -> str:
    """A relative URL that opens the reader at the item's section, e.g. ``reader?doc=…&section=…``."""
    return f"{page}?{urlencode(reader_query_params(item))}"
