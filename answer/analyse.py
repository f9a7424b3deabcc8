"""Stage 1 — analyse: validate the question, split it into the sub-questions it asks, type each one,
and pick its key terms with their corpus IDF.

A long everyday message ("我家楼下工地半夜施工很吵，我能向哪里投诉，法律怎么规定的？") is a situation
plus one or more asking clauses. Clauses that ask (they match an answer-type pattern or carry a
question word) become :class:`Part` s; the other clauses are the context every part is retrieved with.
All words the analysis treats specially come from the vocabulary file; no list lives here.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

from policy_assistant.answer.stats import CorpusStats
from policy_assistant.answer.types import Part, Question, Term
from policy_assistant.core.errors import QuestionError
from policy_assistant.corpus.text import check_question_text, int_to_cn, is_english, normalize_query
from policy_assistant.corpus.vocabulary import Vocabulary

MAX_QUESTION_CHARS = 500   # longer messages are cut (with a note): a question, not a document
MAX_PARTS = 4              # sub-questions answered separately; more are merged into the last one
# Weight of the message's other terms in a part (its focus's terms count 1): 0.25 / 0.5 / 1.0 gave
# dev_long status 0.767 / 0.767 / 0.756, fully correct 0.467 / 0.456 / 0.467 — flat; 0.5 keeps both.
CONTEXT_TERM_WEIGHT = 0.5
MIN_PART_CHARS = 2         # CJK/letters an asking clause needs to stand alone

_TAGS = re.compile(r"<[^>]{0,200}>")
_SENTENCE_SPLIT = re.compile(r"(?<=[？?！!。；;\n])")
_CLAUSE_SPLIT = re.compile(r"(?<=[，,：:])")
# Interrogatives that make a clause ask (几 alone does not: 前几天, 几个退休老师 state, they do not ask).
_ASKING = re.compile(r"吗|呢|什么|多少|哪|谁|几[天日年月次个项条种]?[?？]|怎么|怎样|如何|是否|能否|可否|会不会|能不能|"
                     r"可不可以|要不要|有没有|是不是|[?？]")
_ASKING_EN = re.compile(r"\?|^(what|which|who|when|how|is|are|does|do|can|must|should|may)\b", re.I)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")
_BASELINE_YEAR = re.compile(r"(?:比|较|相比|同比|与|和)\s*((?:19|20)\d{2})\s*年")
_ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇两]+条")
_EN_ARTICLE = re.compile(r"\barticle\s+(\d{1,3})\b", re.I)
_HAN = re.compile(r"[\u3400-\u9fff]")
_WORDISH = re.compile(r"[\w\u3400-\u9fff]")


def content_chars(text: str) -> int:
    return len(re.findall(r"[0-9A-Za-z\u3400-\u9fff]", text))


def clean_question(raw) -> tuple[str, list[str]]:
    """Validated, normalised text; QuestionError (with the fix) for unusable input."""
    notes: list[str] = []
    if raw is None or not str(raw).strip():
        raise QuestionError("问题是空的 (the question is empty)",
                            "请输入一个关于文件内容的问题,例如“PM2.5年均浓度目标是多少?”")
    text = str(raw)
    check_question_text(text)  # undecodable bytes: a QuestionError now, not an encoder error later
    if len(text) > MAX_QUESTION_CHARS:
        notes.append(f"问题过长({len(text)}字),只使用了前{MAX_QUESTION_CHARS}字")
        text = text[:MAX_QUESTION_CHARS]
    text = normalize_query(_TAGS.sub(" ", html.unescape(text)))
    if content_chars(text) < 1:
        raise QuestionError("问题里没有可以检索的文字 (no words to search for)",
                            "请用中文或英文写出问题,例如“这项工作由哪个部门负责?”")
    return text, notes


def _asks(clause: str, sentence_asks: bool, english: bool) -> bool:
    """A clause asks when it carries an interrogative and its sentence ends as a question (or, in a
    message without any question mark, when it carries one at all)."""
    if english:
        return bool(_ASKING_EN.search(clause.strip()))
    return sentence_asks and bool(_ASKING.search(clause))


def split_parts(text: str, vocab: Vocabulary, english: bool = False) -> tuple[str, list[str], list[str]]:
    """``(context, asking clauses, focus)``. Consecutive asking clauses of one sentence stay separate parts;
    a message with one asking clause (or none) is one part: the whole text. ``focus[i]`` is asking clause
    ``i`` with the statements written since the previous asking clause (what that clause is about:
    "另外我想在湖里养外来品种的鱼，行不行？")."""
    if english:
        sentences = [s.strip() for s in re.split(r"(?<=[?.!;])\s+", text) if s.strip()]
        clauses = [(s, _asks(s, True, True)) for s in sentences]
    else:
        joiners = "|".join(re.escape(j) for j in vocab.part_joiners)
        t = re.sub(rf"(?<=[，,。；;\s])({joiners})", r"\n\1", text) if joiners else text
        any_mark = bool(re.search(r"[?？]", t))
        clauses = []
        for sent in _SENTENCE_SPLIT.split(t):
            # "一是…降低多少；二是…罚多少？": a question may go on over a semicolon
            sent_asks = not any_mark or bool(re.search(r"[?？;；]\s*$", sent.strip()))
            for c in _CLAUSE_SPLIT.split(sent):
                c = c.strip()
                if c:
                    clauses.append((c, _asks(c, sent_asks, False)))
    asking, focus, since = [], [], []
    for c, a in clauses:
        if a and content_chars(c) >= MIN_PART_CHARS:
            asking.append(c)
            focus.append("".join(since) + c)
            since = []
        else:
            since.append(c)
    if len(asking) <= 1:
        return "", [text], [text]
    context = "".join(c for c, a in clauses if not a or content_chars(c) < MIN_PART_CHARS)
    if len(asking) > MAX_PARTS:
        asking = asking[:MAX_PARTS - 1] + ["".join(asking[MAX_PARTS - 1:])]
        focus = focus[:MAX_PARTS - 1] + ["".join(focus[MAX_PARTS - 1:])]
    return context, asking, focus


class Analyser:
    """Turns raw text into a :class:`Question`. Holds the vocabulary, tokenizer and corpus statistics."""

    def __init__(self, vocab: Vocabulary, stats: CorpusStats, tokenize, named_docs=None):
        self.vocab = vocab
        self.stats = stats
        self.tokenize = tokenize            # the index's BM25 tokenizer (jieba + domain terms)
        self.named_docs = named_docs or (lambda text: [])

    # ---- terms -----------------------------------------------------------------------------------

    def terms(self, text: str, english: bool = False) -> list[Term]:
        """Key terms of ``text``: content words weighted by IDF, question words and places removed."""
        v = self.vocab
        if english:
            words = self._english_terms(text)
        else:
            t = _YEAR.sub(" ", text)
            for p in (*v.home_places, *v.other_places):
                t = t.replace(p, " ")
            words = [w for w in self.tokenize(t) if self._is_content(w)]
            words = self._merge_adjacent(words, t)
        out: list[Term] = []
        seen = set()
        for w in words:
            if w in seen:
                continue
            seen.add(w)
            forms = tuple(v.aliases.get(w, ()))
            df = max([self.stats.df(w), *(self.stats.df(f) for f in forms)] or [0])
            idf = self.stats.idf(w) if not forms else max(self.stats.idf(f) for f in (w, *forms))
            out.append(Term(w, idf, forms, df))
        return out

    def _part_terms(self, query: str, focus: str, english: bool) -> list[Term]:
        """A part's terms: those of its focus at full weight, the rest of the message's at
        ``CONTEXT_TERM_WEIGHT`` (the situation matters, the clause's own subject more)."""
        terms = self.terms(query, english)
        if query == focus or CONTEXT_TERM_WEIGHT == 1.0:
            return terms
        own = {t.text for t in self.terms(focus, english)}
        return [t if t.text in own else replace(t, idf=t.idf * CONTEXT_TERM_WEIGHT) for t in terms]

    def _is_content(self, w: str) -> bool:
        v = self.vocab
        if not _WORDISH.search(w) or w in v.cue_words:
            return False
        if len(w) == 1 and (w in v.stop_chars or not _HAN.match(w)):
            return False
        return not re.fullmatch(r"[一二三四五六七八九十两几\d]+[个类项级种条部家次天年]?", w)

    def _merge_adjacent(self, words: list[str], text: str) -> list[str]:
        """Adjacent words the corpus uses as one term (环境 + 日 → 环境日), when the joined form is short."""
        out: list[str] = []
        i = 0
        while i < len(words):
            w = words[i]
            if i + 1 < len(words):
                joined = w + words[i + 1]
                if len(joined) <= 4 and joined in text and self.stats.df(joined) > 0:
                    out.append(joined)
                    i += 2
                    continue
            out.append(w)
            i += 1
        return out

    def _english_terms(self, text: str) -> list[str]:
        t = " " + re.sub(r"[^a-z0-9.\- ]+", " ", text.lower()) + " "
        t = re.sub(r"\s+", " ", t)
        found: list[str] = []
        for key, zh in self.vocab.english_glossary.items():
            if re.search(r"(?<![a-z])" + re.escape(key), t):
                found += [z for z in zh if z not in found]
                t = t.replace(key, " | ")
        return found

    # ---- the question ----------------------------------------------------------------------------

    def analyse(self, raw) -> Question:
        text, notes = clean_question(raw)
        english = is_english(text)
        v = self.vocab
        context, asking, focus = split_parts(text, v, english)
        parts = []
        for clause, near in zip(asking, focus, strict=True):
            query = text if len(asking) == 1 else f"{context}{clause}"
            terms = self._part_terms(query, near, english)
            kind = v.answer_type(clause, english)
            parts.append(Part(text=clause, answer_type=kind, query=query, terms=terms, focus=near,
                              measure_units=v.asked_units(clause) if kind == "number" else ()))
        if len(parts) > 1 and all(p.answer_type == "open" for p in parts):
            # several open clauses ("…怎么办，怎么规定的") ask one thing: answer them together
            parts = [Part(text=text, answer_type="open", query=text, terms=self.terms(text, english))]
        baselines = set(_BASELINE_YEAR.findall(text))
        low = text.lower()
        places = [p for p in v.other_places if p in text]
        places += [zh for en, zh in v.english_places.items()
                   if re.search(rf"\b{re.escape(en)}\b", low) and zh not in v.home_places and zh not in places]
        articles = _ARTICLE.findall(text)
        if english:
            articles = [f"第{int_to_cn(int(n))}条" for n in _EN_ARTICLE.findall(text)]
        return Question(
            raw=str(raw), text=text, english=english, parts=parts, context=context,
            terms=self.terms(text, english),
            years=sorted(y for y in set(_YEAR.findall(text)) if y not in baselines),
            places=places, articles=articles, named_docs=list(self.named_docs(text)), notes=notes)
