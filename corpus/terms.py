"""Domain dictionary for jieba built from the corpus itself, and the BM25 tokenizer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import jieba

from policy_assistant.core.errors import ConfigError
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


TOKENIZER_ENGINES = ("rjieba", "jieba")


def tokenizer_engine_version(engine: str = "rjieba") -> str:
    """``engine==version`` of the segmenter (part of the index's tokenizer fingerprint)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{engine}=={version(engine)}"
    except PackageNotFoundError:
        return f"{engine}==?"


def _segmenter(domain_terms: Iterable[str], engine: str) -> Callable[[str], list[str]]:
    """``text -> words``: jieba's dictionary and HMM plus the domain terms, each forced whole.

    ``rjieba`` (jieba-rs, the same dictionary, DAG + HMM) is the default: ~4x faster per word and
    ~10x faster to start than Python jieba, and on the 69k chunks of the scale corpus 99.99 % of its
    tokens equal jieba's (benchmarks/bench_tokenize.py). ``jieba`` is the reference implementation.
    """
    if engine == "rjieba":
        import rjieba

        rj = rjieba.Jieba()
        for term in domain_terms:
            rj.add_word(term, max(rj.suggest_freq(term), 50_000), None)
        return rj.cut
    if engine != "jieba":
        raise ConfigError(f"unknown tokenizer {engine!r}",
                          f"set tokenizer to one of {', '.join(TOKENIZER_ENGINES)} in policy-assistant.toml")
    tk = jieba.Tokenizer()
    tk.initialize()  # jieba logs to stderr here; the cost (~1 s) is paid once
    for term in domain_terms:
        tk.add_word(term, freq=max(tk.suggest_freq(term, tune=False), 50_000))
    return tk.lcut


def make_tokenizer(domain_terms: Iterable[str] = (), engine: str = "rjieba",
                   stop_words: Iterable[str] | None = None) -> Callable[[str], list[str]]:
    """A ``str -> list[str]`` tokenizer for BM25: normalised, jieba segmentation with the domain
    dictionary (``engine``: ``"rjieba"`` or the reference ``"jieba"``), stop-words (default: the
    vocabulary file's) and punctuation removed, ASCII lower-cased. Each call builds its own segmenter so
    different corpora do not share a dictionary."""
    from policy_assistant.corpus.vocabulary import load_vocabulary

    stop = frozenset(stop_words) if stop_words is not None else load_vocabulary().stop_words
    cut = _segmenter(domain_terms, engine)

    def tokenize(text: str) -> list[str]:
        out = []
        for tok in cut(normalize_query(text)):
            tok = tok.strip().lower()
            if tok and tok not in stop and _TOKEN_OK.search(tok):
                out.append(tok)
        return out

    return tokenize


def tokenize_parallel(texts: list[str], domain_terms: Iterable[str], engine: str = "rjieba",
                      workers: int = 2) -> list[list[str]]:
    """``make_tokenizer(domain_terms, engine)`` over ``texts`` in ``workers`` processes (contiguous shards,
    results in order). Each worker is ``python -m policy_assistant.corpus.terms`` reading one JSON
    request on stdin and writing the token lists as JSON (no pickle); a shard whose worker fails is
    tokenised here instead, so the result never depends on the workers."""
    import json
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    terms = list(domain_terms)
    size = -(-len(texts) // max(1, workers))
    shards = [texts[i:i + size] for i in range(0, len(texts), size)] or [[]]

    def run(shard: list[str]) -> list[list[str]]:
        req = json.dumps({"engine": engine, "terms": terms, "texts": shard}, ensure_ascii=False).encode()
        try:
            out = subprocess.run([sys.executable, "-m", "policy_assistant.corpus.terms"], input=req,
                                 capture_output=True, check=True)
            tokens = json.loads(out.stdout)
            if isinstance(tokens, list) and len(tokens) == len(shard):
                return tokens
        except (OSError, subprocess.CalledProcessError, ValueError):
            pass
        tokenize = make_tokenizer(terms, engine)
        return [tokenize(t) for t in shard]

    with ThreadPoolExecutor(max_workers=len(shards)) as pool:
        return [toks for part in pool.map(run, shards) for toks in part]


def _worker() -> None:
    import json
    import sys

    req = json.loads(sys.stdin.buffer.read())
    tokenize = make_tokenizer(req["terms"], req["engine"])
    sys.stdout.write(json.dumps([tokenize(t) for t in req["texts"]], ensure_ascii=False))


if __name__ == "__main__":
    _worker()
