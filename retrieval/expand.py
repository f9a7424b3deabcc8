"""Query-side helpers for retrieval: BM25 query expansion, named documents, article labels.

Everything here works on the (normalised) query text at search time; the index is untouched.

- :func:`expand_bm25_query` appends the documents' wording for the vocabulary file's aliases (排污证 →
  排污许可证) and, for English questions, its English glossary (fine → 罚款). Applied to the BM25 query
  only: the dense embedder already understands paraphrases and English.
- :func:`named_doc_ids` finds documents whose title, or short title without 中华人民共和国, occurs in
  the query (``corpus.text.named_doc_ids``), also by English law names ("Environmental Protection
  Law" → 环境保护法).
- :func:`article_labels` extracts the "第X条" labels a question cites.
"""

from __future__ import annotations

import re

from policy_assistant.corpus.text import CN_NUMERALS, int_to_cn, is_english, short_title
from policy_assistant.corpus.text import named_doc_ids as _named_in_text
from policy_assistant.corpus.vocabulary import Vocabulary

_LAW_WORDS = r"\b(?:law|act|regulations?|rules|measures|provisions)\b"
_ARTICLE = re.compile(rf"第([{CN_NUMERALS}]+|\d+)条")


def _en_matches(q: str, key: str) -> bool:
    return re.search(r"\b" + re.escape(key), q) is not None


def _without_law_name(q: str, key: str) -> str:
    """``q`` without the law name that contains ``key``: the words of a law's full name name the law, not
    what is asked about it ("When did the Regulations on … Pollutant Discharge Permits take effect?" asks
    about 施行, not 排放/许可证); "without a pollutant discharge permit" is content and stays."""
    k = re.escape(key)
    if re.search(_LAW_WORDS, key):
        named = rf"\b{k}"
    else:
        named = rf"{_LAW_WORDS}[^?.;]{{0,40}}?\b{k}\w*|\b{k}\w*(?:\s+\w+){{0,2}}\s+{_LAW_WORDS}"
    return re.sub(named, " ", q)


def expand_bm25_query(query: str, vocab: Vocabulary) -> str:
    """``query`` plus the documents' wording for the aliases / English words it uses (BM25 only)."""
    q = query.lower()
    extra: list[str] = []
    if is_english(query):
        for key, title in vocab.english_titles.items():
            if _en_matches(q, key):
                extra.append(title)
                q = _without_law_name(q, key)
        for key, terms in vocab.english_glossary.items():
            if _en_matches(q, key):
                extra.append(" ".join(terms))
    else:
        for key, forms in vocab.aliases.items():
            if key in query:
                extra.append(" ".join(forms))
    if not extra:
        return query
    return query + " " + " ".join(dict.fromkeys(extra))


def longest_common_run(query: str, text: str, min_len: int = 4) -> int:
    """Length of the longest Chinese run of ``query`` (at least ``min_len`` characters) that occurs
    verbatim in ``text``; 0 when none does. Phrase evidence BM25's bag of words does not see.

    Each start position is only tried at the length that would beat the best so far, and extended while
    it keeps matching: about one substring test per query character."""
    best = 0
    for run in re.findall(r"[\u4e00-\u9fff0-9.%]+", query):
        n = len(run)
        for i in range(n):
            j = i + max(best + 1, min_len)
            if j > n:
                break
            while j <= n and run[i:j] in text:
                best = j - i
                j += 1
    return best


def named_doc_ids(query: str, documents: list[dict], vocab: Vocabulary | None = None, min_len: int = 4) -> list[str]:
    """Ids of the documents whose title or short title occurs in ``query`` (English law names too),
    in order of first mention; a title contained in a longer named one (环境保护法 in 环境保护税法) is
    not counted separately."""
    english: list[tuple[int, int, str]] = []
    if vocab is not None and is_english(query):
        ql = query.lower()
        for key, part in vocab.english_titles.items():
            m = re.search(r"\b" + re.escape(key), ql)
            if m:
                english += [(m.start(), m.end(), d["doc_id"]) for d in documents if short_title(d["title"]) == part]
    titles = {d["doc_id"]: d["title"] for d in documents}
    return _named_in_text(query, titles, min_len, extra=english)


def article_labels(query: str) -> list[str]:
    """The "第X条" labels cited in ``query`` (Arabic numbers converted to Chinese numerals)."""
    out = []
    for m in _ARTICLE.finditer(query):
        n = m.group(1)
        out.append(f"第{int_to_cn(int(n)) if n.isdigit() else n}条")
    return out
