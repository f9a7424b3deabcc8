"""Checks behind the synthetic negatives: substring search over the index laws' chunks, key phrases
of a question's subject, the not_specified test and the key words of foreign-law subjects."""

from __future__ import annotations

import bisect
import re

import jieba

from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.terms import make_tokenizer
from policy_assistant.corpus.vocabulary import load_vocabulary
from policy_assistant.eval.synth_templates import NUMBER_UNIT, ORGAN_END, Candidate

jieba.setLogLevel(60)

# What "stating the detail" means for a not_specified check: a chunk that mentions the subject and
# matches this pattern states it (so the item would not be not_specified).
DETAIL: dict[str, re.Pattern] = {
    "penalty": re.compile(r"罚款|拘留|刑事责任|处分|吊销|没收|警告|处罚"),
    "number": NUMBER_UNIT,
    "who": re.compile(ORGAN_END),
    "definition": re.compile(r"是指|所称|含义|指的是"),
    # a fine or a criminal liability also settles whether one may do something
    "yesno": re.compile(r"应当|不得|可以|禁止|必须|有权|无权|不准|严禁|罚款|刑事责任|处分|违法"),
    "list": re.compile(r"下列|以下|[（(][一二三四五六七八九十]+[）)]"),
}
MAX_MENTIONS = 12  # a key phrase in more chunks than this is too general to be a subject
GENERIC_LAW_SHARE = 0.2  # a word in more than 20 % of the foreign laws marks no subject


class PhraseIndex:
    """Substring search over chunks' retrieval texts (breadcrumb + text), as the engine indexes them."""

    _SEP = "\n\x00\n"

    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks
        self._starts: list[int] = []
        pos = 0
        for c in chunks:
            self._starts.append(pos)
            pos += len(c.retrieval_text) + len(self._SEP)
        self._text = self._SEP.join(c.retrieval_text for c in chunks)
        self._units: dict[tuple, list[str]] = {}
        for c in chunks:
            self._units.setdefault((c.doc_id, c.path), []).append(c.chunk_id)

    def mentions(self, phrase: str) -> bool:
        return phrase in self._text

    def chunks_with(self, phrase: str) -> list[Chunk]:
        """Every chunk whose retrieval text contains ``phrase``."""
        out, pos = [], self._text.find(phrase)
        while pos >= 0:
            i = bisect.bisect_right(self._starts, pos) - 1
            out.append(self.chunks[i])
            nxt = self._starts[i + 1] if i + 1 < len(self._starts) else len(self._text)
            pos = self._text.find(phrase, nxt)
        return out

    def unit_ids(self, chunk: Chunk) -> list[str]:
        """The chunk ids of the whole unit (all parts of the article) ``chunk`` belongs to."""
        return self._units.get((chunk.doc_id, chunk.path), [chunk.chunk_id])


# Words that cannot start or end a key phrase (conjunctions, vague modifiers).
EDGE_WORDS = load_vocabulary().stop_words | {"任何", "或者", "以及", "并且", "及其", "其他", "有关", "相关", "等等", "一般", "特别"}


def _content(tok: str) -> bool:
    return tok not in EDGE_WORDS and bool(re.fullmatch(r"[\w\u3400-\u9fff（）()]+", tok)) and not tok.isdigit()


def key_phrases(c: Candidate) -> list[str]:
    """Subject phrases for the not_specified check, longest first: spans of 1–4 jieba words of at least
    4 characters that start and end with a content word (a definition's key phrase is its term)."""
    if c.answer_type == "definition":
        return [c.subject]
    toks = jieba.lcut(c.subject)
    spans: list[tuple[int, int, str]] = []
    for i in range(len(toks)):
        for j in range(i + 1, min(i + 4, len(toks)) + 1):
            span = "".join(toks[i:j])
            if len(span) >= 4 and _content(toks[i]) and _content(toks[j - 1]) and re.fullmatch(r"[^，。；：、]+", span):
                spans.append((-len(span), i, span))
    return list(dict.fromkeys(s for _, _, s in sorted(spans)))


def check_not_specified(c: Candidate, idx: PhraseIndex) -> tuple[str, list[str]] | None:
    """``(key phrase, mask)`` when hiding the candidate's article leaves the subject mentioned (its
    longest key phrase that other chunks contain) but in no chunk that states the detail; else None."""
    if c.answer_type not in DETAIL:
        return None
    mask = idx.unit_ids(c.chunk)
    for kp in key_phrases(c):
        if kp not in c.chunk.retrieval_text:
            continue
        others = [o for o in idx.chunks_with(kp) if o.chunk_id not in mask]
        if not others:
            continue
        if len(others) > MAX_MENTIONS and c.answer_type != "definition":
            return None  # a phrase this common is not what the question is about
        if any(DETAIL[c.answer_type].search(o.retrieval_text) for o in others):
            return None
        return kp, mask
    return None


class ForeignKeys:
    """Key words of foreign-law subjects: content words of the subject (as jieba splits it) that are not
    common across the foreign laws (a word found in more than ``GENERIC_LAW_SHARE`` of them marks no
    subject). Counted per law, not per chunk, so a law's own central term stays a key word."""

    def __init__(self, foreign_chunks: list[Chunk]):
        self._tok = make_tokenizer()
        texts: dict[str, list[str]] = {}
        for c in foreign_chunks:
            texts.setdefault(c.doc_id, []).append(c.text)
        self._laws = ["\n".join(t) for t in texts.values()]
        self._limit = max(2, GENERIC_LAW_SHARE * len(self._laws))
        self._generic: dict[str, bool] = {}

    def generic(self, word: str) -> bool:
        if word not in self._generic:
            self._generic[word] = sum(word in t for t in self._laws) > self._limit
        return self._generic[word]

    def __call__(self, subject: str) -> list[str]:
        words = [t for t in self._tok(subject) if len(t) >= 2 and t in subject and "几" not in t
                 and "多少" not in t and not self.generic(t)]
        return list(dict.fromkeys(words))
