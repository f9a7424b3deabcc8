"""Is a law's copy complete? Article-number gaps and a text that stops mid-way.

A copy saved from a web page or cut off by a bad scan can stop before the end of the law (the stored
长江保护法 ends at 第七十九条 of 96) and nothing else would tell the reader. Documents organised in
``第X条`` articles are checked for:

* gaps in the article numbers (``第十二条`` followed by ``第十五条``) or a first article other than 第一条;
* a last article that ends mid-sentence (no 。！？ at its end);
* chapters whose last one is not 附则 while no article says when the text takes effect (``…起施行``):
  the 附则 with the effective-date clause is what laws and regulations end with.

The result is stored in ``Document.completeness`` (and so in the index's documents.json);
:func:`incomplete_note` turns it into the sentence the reader banner and answers show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from policy_assistant.corpus.model import Section
from policy_assistant.corpus.structure import cn_to_int, int_to_cn

_ARTICLE_NUMBER = re.compile(r"^第([一二三四五六七八九十百千零〇两]+)条$")  # 第X条之一 is an insertion: no number of its own
_COMPLETE_END = re.compile(r"[。！？!?…][”’」』）)]*$")
_EFFECTIVE = re.compile(r"(施行|生效)")
_APPENDIX = re.compile(r"^(附表|附件|附录)")
MIN_ARTICLES = 3


def _ranges(missing: list[int]) -> list[str]:
    """``[5, 6, 7, 12]`` → ``["第五条至第七条", "第十二条"]``."""
    out: list[str] = []
    start = prev = None
    for n in [*missing, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            out.append(f"第{int_to_cn(start)}条" + (f"至第{int_to_cn(prev)}条" if prev != start else ""))
        start = prev = n
    return out


def _own_text(article: Section) -> str:
    """The article's text without the tables appended after the law's last article (附表一 …)."""
    lines = article.text.split("\n")
    cut = next((i for i, ln in enumerate(lines) if i and _APPENDIX.match(ln.strip())), len(lines))
    return "\n".join(lines[:cut]).rstrip()


def check_completeness(root: Section) -> dict | None:
    """Completeness of a document in ``第X条`` articles, or ``None`` for other layouts.

    Returns ``{"complete", "articles", "last_article", "missing", "reasons", "reason"}``: ``missing``
    lists the skipped article ranges, ``reasons`` short codes (``gap``, ``truncated``, ``no_final_part``)
    and ``reason`` one Chinese sentence for readers.
    """
    articles: list[Section] = []
    chapters: list[Section] = []
    for _path, node in root.walk():
        if node.kind == "article":
            articles.append(node)
        elif node.kind == "chapter" and node.label.endswith("章"):
            chapters.append(node)
    if len(articles) < MIN_ARTICLES:
        return None
    missing: list[int] = []
    expected = 1
    for a in articles:
        m = _ARTICLE_NUMBER.match(a.label)
        n = cn_to_int(m.group(1)) if m else None
        if n is None:
            continue
        if n > expected:
            missing.extend(range(expected, n))
        expected = max(expected, n + 1)
    last = articles[-1]
    reasons: list[str] = []
    words: list[str] = []
    if missing:
        reasons.append("gap")
        words.append("缺少" + "、".join(_ranges(missing)))
    if not _COMPLETE_END.search(_own_text(last)):
        reasons.append("truncated")
        words.append(f"{last.label}在句子中间中断")
    if chapters and not any("附则" in c.title.replace(" ", "") for c in chapters) \
            and not any(_EFFECTIVE.search(a.text) for a in articles[-3:]):
        reasons.append("no_final_part")
        words.append(f"最后一章是{chapters[-1].heading}，其后没有附则，也没有施行日期条款")
    reason = f"只到{last.label}；" + "；".join(words) if reasons else ""
    return {"complete": not reasons, "articles": len(articles), "last_article": last.label,
            "missing": _ranges(missing), "reasons": reasons, "reason": reason}


def completeness_warning(completeness: dict | None) -> str | None:
    """The document warning for an incomplete copy (English, like the other ingest warnings)."""
    if not completeness or completeness.get("complete", True):
        return None
    parts = {"gap": f"article numbers skipped ({', '.join(completeness.get('missing', []))})",
             "truncated": f"the text ends mid-sentence in {completeness.get('last_article')}",
             "no_final_part": "the last chapter is not 附则 and no article says when it takes effect"}
    why = "; ".join(parts[r] for r in completeness.get("reasons", []) if r in parts)
    return f"the copy may be incomplete: it ends at {completeness.get('last_article')}; {why}"


def incomplete_note(doc_meta: Mapping | object) -> str | None:
    """For a document whose copy may be incomplete, the sentence to show readers; else ``None``.

    ``doc_meta`` is a :class:`~policy_assistant.corpus.model.Document` or its metadata dict (an entry
    of the index's documents.json, ``HybridRetriever.documents``). Answers that find nothing in such a
    document add this note, so nobody concludes the law is silent where the copy is merely cut off.
    """
    if isinstance(doc_meta, Mapping):
        completeness, title = doc_meta.get("completeness"), doc_meta.get("title", "")
    else:
        completeness, title = getattr(doc_meta, "completeness", None), getattr(doc_meta, "title", "")
    if not completeness or completeness.get("complete", True):
        return None
    return (f"本库中的《{title}》可能不完整（{completeness.get('reason', '')}）。"
            "没有找到的内容可能在缺失的部分，请以正式文本为准。")
