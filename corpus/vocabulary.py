"""The vocabulary data file: every word the engine treats specially (``corpus/vocabulary.toml``).

Cue words, answer-type patterns, places and the home region, aliases, the English glossary and the
terms the segmenter keeps whole are data, not code: a deployment for another region or another set of
documents edits the file (``vocabulary`` in policy-assistant.toml points at its own copy). The index
manifest records the file's sha256, so a changed vocabulary is noticed like a changed document.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from policy_assistant.core.errors import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent / "vocabulary.toml"
_FIX = "fix the file (TOML syntax, regular expressions) or set `vocabulary` in policy-assistant.toml"


@dataclass(frozen=True)
class Vocabulary:
    """Parsed vocabulary. Patterns are compiled; word lists are frozensets or tuples."""

    path: Path
    sha256: str
    home_places: tuple[str, ...] = ()
    other_places: tuple[str, ...] = ()
    home_words: tuple[str, ...] = ()
    english_places: dict[str, str] = field(default_factory=dict)
    keep_whole: tuple[str, ...] = ()
    stop_words: frozenset[str] = frozenset()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cue_words: frozenset[str] = frozenset()
    stop_chars: frozenset[str] = frozenset()
    part_joiners: tuple[str, ...] = ()
    answer_types: tuple[tuple[str, re.Pattern], ...] = ()
    answer_types_en: tuple[tuple[str, re.Pattern], ...] = ()
    evidence: dict[str, re.Pattern] = field(default_factory=dict)
    english_glossary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    english_titles: dict[str, str] = field(default_factory=dict)
    measures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    measure_nouns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    type_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def answer_type(self, text: str, english: bool = False) -> str:
        """The first answer type whose pattern matches ``text`` ("open" when none does)."""
        probe = text.lower() if english else text
        for name, pat in (self.answer_types_en if english else self.answer_types):
            if pat.search(probe):
                return name
        return "open"

    def asked_units(self, question: str) -> tuple[str, ...]:
        """The units a number must carry to answer ``question`` ("养多少头猪" → ("头",)); () when the
        question names no measure."""
        if not self.measures and not self.measure_nouns:
            return ()
        words = "|".join(sorted(map(re.escape, self.measures), key=len, reverse=True))
        m = re.search(rf"(?:多少|几)({words})", question)
        if m:
            return self.measures[m.group(1)]
        if self.measure_nouns:
            nouns = "|".join(sorted(map(re.escape, self.measure_nouns), key=len, reverse=True))
            m = re.search(rf"({nouns})[^，,。？?；;]{{0,4}}(?:多少|几)", question)
            if m:
                return self.measure_nouns[m.group(1)]
        return ()

    def states_units(self, units: tuple[str, ...], sentence: str) -> bool:
        """Does ``sentence`` give a number in one of ``units``?"""
        if not units:
            return True
        alt = "|".join(sorted(map(re.escape, units), key=len, reverse=True))
        return bool(re.search(rf"[\d零〇一二三四五六七八九十百千万两.]\s*(?:{alt})", sentence))

    def states(self, kind: str, sentence: str, units: tuple[str, ...] = ()) -> bool:
        """Does ``sentence`` state an answer of ``kind`` (number, date, who, penalty, definition …) — in one
        of ``units`` when the question asked for a measure (:meth:`asked_units`)?"""
        pat = self.evidence.get(kind)
        return bool(pat and pat.search(sentence)) and self.states_units(units, sentence)


def _words(value, where: str) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"vocabulary: {where} must be a list of strings or a space-separated string", _FIX)


def _pattern(parts, where: str, flags: int = 0) -> re.Pattern:
    parts = [parts] if isinstance(parts, str) else parts
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise ConfigError(f"vocabulary: {where} must be a list of regular expressions", _FIX)
    try:
        return re.compile("|".join(f"(?:{p})" for p in parts) or r"(?!x)x", flags)
    except re.error as exc:
        raise ConfigError(f"vocabulary: bad regular expression in {where}: {exc}", _FIX) from exc


def _table(data: dict, *keys: str) -> dict:
    cur = data
    for k in keys:
        cur = cur.get(k, {}) if isinstance(cur, dict) else {}
    return cur if isinstance(cur, dict) else {}


def parse_vocabulary(text: str, path: Path) -> Vocabulary:
    """Parse the TOML text of a vocabulary file (raises :class:`ConfigError` naming the problem)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read the vocabulary file {path}: {exc}", _FIX) from exc
    region, terms, question = _table(data, "region"), _table(data, "terms"), _table(data, "question")
    types = _table(question, "answer_types")
    order = _words(types.get("order", []), "question.answer_types.order")
    zh_types = tuple((name, _pattern(types.get(name, []), f"question.answer_types.{name}"))
                     for name in order if name != "open" or types.get("open"))
    en = _table(types, "english")
    en_types = tuple((name, _pattern(en[name], f"question.answer_types.english.{name}", re.I))
                     for name in order if name in en)
    evidence = {k: _pattern(v, f"evidence.{k}") for k, v in _table(data, "evidence").items()}
    glossary = {str(k).lower(): tuple(_words(v, f"english.glossary.{k}"))
                for k, v in _table(data, "english", "glossary").items()}
    aliases = {str(k): tuple(_words(v, f"aliases.{k}")) for k, v in _table(data, "aliases").items()}
    return Vocabulary(
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        home_places=tuple(_words(region.get("home", []), "region.home")),
        other_places=tuple(_words(region.get("other", []), "region.other")),
        home_words=tuple(_words(region.get("home_words", []), "region.home_words")),
        english_places={str(k).lower(): str(v) for k, v in _table(region, "english").items()},
        keep_whole=tuple(_words(terms.get("keep_whole", []), "terms.keep_whole")),
        stop_words=frozenset(_words(terms.get("stop_words", []), "terms.stop_words")),
        aliases=aliases,
        cue_words=frozenset(_words(question.get("cue_words", []), "question.cue_words")),
        stop_chars=frozenset(str(question.get("stop_chars", ""))),
        part_joiners=tuple(_words(question.get("part_joiners", []), "question.part_joiners")),
        answer_types=zh_types,
        answer_types_en=en_types,
        evidence=evidence,
        english_glossary=dict(sorted(glossary.items(), key=lambda kv: -len(kv[0]))),
        english_titles={str(k).lower(): str(v) for k, v in _table(data, "english", "titles").items()},
        measures={str(k): tuple(_words(v, f"question.measures.{k}")) for k, v in _table(question, "measures").items()},
        measure_nouns={str(k): tuple(_words(v, f"question.measure_nouns.{k}"))
                       for k, v in _table(question, "measure_nouns").items()},
        type_terms={str(k): tuple(_words(v, f"question.type_terms.{k}"))
                    for k, v in _table(question, "type_terms").items()},
    )


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> Vocabulary:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the vocabulary file {p}: {exc}", _FIX) from exc
    return parse_vocabulary(text, p)


def load_vocabulary(path: Path | str | None = None) -> Vocabulary:
    """The vocabulary at ``path`` (default: the packaged ``corpus/vocabulary.toml``), cached per file state."""
    p = Path(path) if path else DEFAULT_PATH
    try:
        st = p.stat()
    except OSError as exc:
        raise ConfigError(f"vocabulary file {p} not found ({exc.strerror})",
                          "create it (copy corpus/vocabulary.toml of the project) or fix `vocabulary` in "
                          "policy-assistant.toml") from exc
    return _load(str(p.resolve()), st.st_mtime_ns, st.st_size)
