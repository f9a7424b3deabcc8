"""Domain dictionary for jieba built from the corpus itself, and the BM25 tokenizer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import jieba

from policy_assistant.corpus.model import Chunk, Document
from policy_assistant.corpus.text import normalize_query, short_title

jieba.setLogLevel(60)  # silence jieba's dictionary-loading chatter on stderr

_QUOTED = re.compile(r"[\"“《「]([^\"”》」\n]{2,16})[\"”》」]")
_TOKEN_OK = re.compile(r"[\w\u3400-\u9fff]")


def build_domain_terms(documents: Iterable[Document], chunks: Iterable[Chunk]) -> list[str]:
    """Quoted terms, 《titles》 and heading keywords, deduplicated and sorted (the vocabulary file's
    ``[terms] keep_whole`` are added by the index builder)."""
    terms: set[str] = set()
    for doc in documents:
        terms.update({doc.title, short_title(doc.title)})
    for chunk in chunks:
        for m in _QUOTED.finditer(chunk.text):
            term = m.group(1).strip()
            if 2 <= len(term) <= 16 and not re.search(r"[，,。；;：:、\s]", term):
                terms.add(term)
        for heading in chunk.path:
            words = re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]?", "", heading)
            if 2 <= len(words) <= 12 and not re.search(r"[，,。；;\s]", words):
                terms.add(words)
    return sorted(terms)


def make_tokenizer(domain_terms: Iterable[str] = (), stop_words: Iterable[str] | None = None) -> Callable[[str], list[str]]:
    """A ``str -> list[str]`` tokenizer for BM25: normalised, jieba with the domain dictionary,
    stop-words (default: the vocabulary file's) and punctuation removed, ASCII lower-cased. Each call
    builds its own jieba instance so different corpora do not share a dictionary."""
    from policy_assistant.corpus.vocabulary import load_vocabulary

    stop = frozenset(stop_words) if stop_words is not None else load_vocabulary().stop_words
    tk = jieba.Tokenizer()
    tk.initialize()  # jieba logs to stderr here; the cost (~1 s) is paid once
    for term in domain_terms:
        tk.add_word(term, freq=max(tk.suggest_freq(term, tune=False), 50_000))

    def tokenize(text: str) -> list[str]:
        out = []
        for tok in tk.lcut(normalize_query(text)):
            tok = tok.strip().lower()
            if tok and tok not in stop and _TOKEN_OK.search(tok):
                out.append(tok)
        return out

    return tokenize
