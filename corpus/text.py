"""The project's text rules, written once: clean-up, normalisation, sentences, English detection,
Chinese numerals, short titles, named-document detection and character spans.

Every layer above (ingest, retrieval, the answerer, eval, training, the app) uses these; none keeps a
copy with rules of its own. Imports nothing of the project.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

import zhconv

from policy_assistant.core.errors import QuestionError

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")  # faster than translate() per line
# Full-width space, no-break space and other odd spaces become one ASCII space.
ODD_SPACES = re.compile(r"[\u3000\u00a0\u2002\u2003\u2009\u202f\t]")
CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}])[ ]+(?=[{CJK}])")
# The characters of Chinese numerals as laws and headings print them (第二十一条, 三、, （十二）).
CN_NUMERALS = "零〇一二两三四五六七八九十百千"
SENTENCE_END = "。；！？;!?"
_SENTENCE_RE = re.compile(rf"[^{SENTENCE_END}]*[{SENTENCE_END}]+[”\"’」』)）]*|[^{SENTENCE_END}]+$")


def clean_line(line: str) -> str:
    """Remove zero-width characters, normalise odd spaces, strip the ends."""
    line = _ZERO_WIDTH_RE.sub("", line)
    line = ODD_SPACES.sub(" ", line)
    return line.strip()


def squeeze_cjk_spaces(text: str) -> str:
    """Drop spaces between two Chinese characters (``总　　则`` → ``总则``)."""
    return _SPACE_BETWEEN_CJK.sub("", text)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode text in UTF-8 (with or without BOM) or GB18030/GBK; return ``(text, encoding)``.

    Raises ``UnicodeDecodeError`` when no candidate decodes cleanly or the result looks binary.
    """
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text, ("utf-8" if enc == "utf-8-sig" else enc)
    raise UnicodeDecodeError("unknown", data[:1], 0, 1, "not UTF-8 or GB18030 text")


def decode_lines(data: bytes) -> tuple[list[str | None], str]:
    """Split ``data`` at ``\\n`` and decode each line in the encoding of the whole input; return
    ``(lines, encoding)`` with ``None`` for a line that does not decode or looks binary.

    The encoding is UTF-8 (a BOM is dropped) unless more lines decode only as GB18030/GBK than only as
    UTF-8, so one damaged line neither flips a UTF-8 file to GBK nor stops the others from decoding.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw = data.split(b"\n")
    only = {"utf-8": 0, "gb18030": 0}
    for line in raw:
        if line.isascii():
            continue
        ok = [enc for enc in only if _decodes(line, enc)]
        if len(ok) == 1:
            only[ok[0]] += 1
    encoding = "gb18030" if only["gb18030"] > only["utf-8"] else "utf-8"
    out: list[str | None] = []
    for line in raw:
        try:
            text = line.decode(encoding).rstrip("\r")
        except UnicodeDecodeError:
            out.append(None)
            continue
        out.append(None if _looks_binary(text) else text)
    return out, encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def undecodable_bytes(text: str) -> str | None:
    """For text that carries undecodable bytes (lone surrogates, as Python decodes invalid UTF-8 in
    arguments and file names), a short picture of them, e.g. ``b'\\xff\\xfe'``; else ``None``."""
    bad = [ch for ch in text if "\udc80" <= ch <= "\udcff" or "\ud800" <= ch <= "\udfff"]
    if not bad:
        return None
    return repr(bytes(ord(ch) - 0xDC00 if "\udc80" <= ch <= "\udcff" else 0x3F for ch in bad[:8]))


# Characters that are certainly neither control, private-use, unassigned nor surrogate code points
# (printable ASCII and Latin-1, CJK ideographs, CJK and general punctuation, full-width forms, line
# breaks): removed in one regex pass so only the rest is looked up character by character.
_SURELY_TEXT = re.compile(r"[\x20-\x7e\xa0-\xff\n\r\t\f\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e"
                          r"\u2010-\u2027\u2030-\u205e]+")


def check_question_text(text: str) -> None:
    """Raise :class:`QuestionError` when a question carries undecodable bytes (instead of failing
    later, inside the embedder, with a UnicodeEncodeError)."""
    bad = undecodable_bytes(text)
    if bad is not None:
        raise QuestionError(f"the question contains bytes that are not text ({bad})",
                            "type or paste the question again as UTF-8 text")


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    rest = _SURELY_TEXT.sub("", text)
    control = sum(1 for ch in rest if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
    private = sum(1 for ch in rest if unicodedata.category(ch) in {"Co", "Cn", "Cs"})
    return (control + private) / len(text) > 0.01


@functools.cache
def _conversion_triggers() -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """What can make zhconv's zh-cn conversion change a text: every entry whose value differs from its
    key contains a traditional character that converts on its own (the first such character is the
    trigger) or, for the few entries without one (反覆, 公升, A肝 …), the whole key must occur."""
    from zhconv import zhconv as zc

    table = zc.getdict("zh-cn")
    singles = {k for k, v in table.items() if len(k) == 1 and k != v}
    triggers: set[str] = set()
    words: dict[str, list[str]] = {}
    for key, value in table.items():
        if key == value:
            continue
        trad = next((ch for ch in key if ch in singles), None)
        if trad is not None:
            triggers.add(trad)
        else:
            words.setdefault(key[0], []).append(key)
    return frozenset(triggers), {ch: tuple(ks) for ch, ks in words.items()}


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (``森林覆蓋率`` → ``森林覆盖率``).

    Exactly ``zhconv.convert(text, "zh-cn")``, without its per-character loop for the text that has
    nothing to convert (nearly every chunk of a simplified corpus): zhconv's greedy longest match can
    only change text that contains some entry whose value differs from its key.
    """
    triggers, words = _conversion_triggers()
    chars = set(text)
    if triggers.isdisjoint(chars) and not any(k in text for ch in chars.intersection(words) for k in words[ch]):
        return text
    return zhconv.convert(text, "zh-cn")


def normalize_query(text: str) -> str:
    """Query normalisation: zero-width removal, full-width → half-width (NFKC), 繁→简, one space."""
    text = unicodedata.normalize("NFKC", text.translate(ZERO_WIDTH))
    text = to_simplified(text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=50_000)
def fold(text: str, *, simplify: bool = True) -> str:
    """Matching form: :func:`normalize_query` (NFKC, zero-width removal, 繁→简), lower case, no whitespace.

    ``simplify=False`` skips 繁→简 (the slow step) for text that is already simplified, e.g. passages.
    """
    text = text or ""
    if simplify:
        text = normalize_query(text)
    else:
        text = unicodedata.normalize("NFKC", text.translate(ZERO_WIDTH))
    return re.sub(r"\s+", "", text).lower()


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC + lower case per character, spaces dropped, with each output character's index in ``text``
    (to map a match in the folded text back to a span of the original)."""
    out, idx = [], []
    for i, ch in enumerate(text):
        for n in unicodedata.normalize("NFKC", ch).lower():
            if not n.isspace():
                out.append(n)
                idx.append(i)
    return "".join(out), idx


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort ``(start, end)`` character spans and merge the overlapping ones."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends (。；！？ and ASCII ; ! ?) keeping the punctuation; newlines also split."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        out.extend(s.strip() for s in _SENTENCE_RE.findall(para) if s.strip())
    return out


def join_wrapped_lines(lines: list[str]) -> list[str]:
    """Join lines that a PDF hard-wrapped mid-sentence, without inserting spaces between Chinese.

    A line is continued when the previous one does not end a sentence or a heading and the next
    one does not start a new article, chapter or list item. The pieces of a line are joined once
    (linear in the text, however many lines one sentence spans).
    """
    out: list[str] = []
    pieces: list[str] = []  # the line being assembled
    for line in lines:
        if not line:
            continue
        if pieces:
            alone = len(pieces) == 1 and bool(_ARTICLE_ALONE.match(pieces[0]))
            if _continues(pieces[0], pieces[-1][-1], alone, line):
                last = pieces[-1][-1]
                ascii_join = last.isascii() and last.isalnum() and line[0].isascii() and line[0].isalnum()
                pieces.append((" " if ascii_join or alone else "") + line)
                continue
            out.append("".join(pieces))
        pieces = [line]
    if pieces:
        out.append("".join(pieces))
    return out


_NEW_BLOCK = re.compile(rf"^(第[{CN_NUMERALS}]+[编章节条]|[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+、|\d+[.．、])")
_ARTICLE_ALONE = re.compile(rf"^第[{CN_NUMERALS}]+条$")


def _continues(first: str, last_char: str, article_alone: bool, line: str) -> bool:
    """Whether ``line`` continues the line that starts with ``first`` and ends with ``last_char``."""
    if _NEW_BLOCK.match(line):
        return False
    if article_alone:
        return True  # "第一条" printed on its own line: its text follows
    if re.match(r"^第[一二三四五六七八九十百千零〇两]+[编章节]", first):
        return False
    return last_char not in "。：:；;！!？?"


# --------------------------------------------------------------------------- English questions

_HAN = re.compile(r"[\u4e00-\u9fff]")


def is_english(text: str) -> bool:
    """Mostly Latin letters: at least 6, and at least twice as many as Chinese characters.

    ``How much is the fine for 无证排污?`` is English (retrieval and question analysis agree).
    """
    han = len(_HAN.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return latin >= max(6, 2 * han)


# --------------------------------------------------------------------------- Chinese numerals

_CN_DIGIT_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                   "八": 8, "九": 9}
_CN_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000}


def cn_to_int(s: str) -> int | None:
    """Chinese numerals → int (``十四`` → 14, ``一百零五`` → 105, ``十万`` → 100000); None if malformed
    (a character that is no numeral, or digits without a unit between them: ``一九``)."""
    if not s or any(ch not in CN_NUMERALS and ch != "万" for ch in s):
        return None
    total = section = number = 0
    prev_digit = False
    for ch in s:
        if ch in _CN_DIGIT_VALUE:
            if prev_digit and _CN_DIGIT_VALUE[ch] != 0 and number != 0:
                return None
            number = _CN_DIGIT_VALUE[ch]
            prev_digit = True
        elif ch in _CN_UNIT_VALUE:
            section += (number or 1) * _CN_UNIT_VALUE[ch]
            number, prev_digit = 0, False
        else:  # 万
            total += (section + number) * 10000
            section = number = 0
            prev_digit = False
    return total + section + number


def _below_10000(n: int) -> str:
    out, zero = "", False
    for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value
        n %= value
        if d:
            if zero and out:
                out += "零"
            out += "零一二三四五六七八九"[d] + name
            zero = False
        elif out:
            zero = True
    return out


def int_to_cn(n: int) -> str:
    """int → Chinese numerals as written in laws (3 → 三, 12 → 十二, 105 → 一百零五, 100000 → 十万)."""
    if n == 0:
        return "零"
    if n >= 10000:
        high, low = divmod(n, 10000)
        s = _below_10000(high) + "万"
        if low:
            s += ("零" if low < 1000 else "") + _below_10000(low)
    else:
        s = _below_10000(n)
    return s[1:] if s.startswith("一十") else s


# --------------------------------------------------------------------------- document titles

TITLE_PREFIX = "中华人民共和国"


def short_title(title: str) -> str:
    """``中华人民共和国环境保护法`` → ``环境保护法`` (the name people use)."""
    return title.removeprefix(TITLE_PREFIX)


@lru_cache(maxsize=16)
def _title_names(titles: tuple[tuple[str, str], ...], min_len: int) -> tuple[tuple[str, str], ...]:
    """``(doc_id, folded name)`` for each title and short title at least ``min_len`` long (asked per question)."""
    return tuple((doc_id, name) for doc_id, title in titles
                 for name in dict.fromkeys((fold(title), fold(short_title(title)))) if len(name) >= min_len)


def named_doc_ids(text: str, titles: Mapping[str, str], min_len: int = 4,
                  extra: Iterable[tuple[int, int, str]] = ()) -> list[str]:
    """Ids of the documents whose title or short title occurs in ``text``, in order of first mention.

    ``text`` is a normalised question (:func:`normalize_query`); ``titles`` maps doc id → title. Names
    are compared in folded form (spacing and case do not matter). ``extra`` adds ``(start, end, doc_id)``
    mentions in ``text`` found another way (English law names). A mention inside a longer mention of
    another document (环境保护法 in 环境保护税法) is not counted.
    """
    folded, where = fold_with_map(text)
    found: list[tuple[int, int, str]] = list(extra)
    for doc_id, name in _title_names(tuple(titles.items()), min_len):
        pos = folded.find(name)
        if pos >= 0:
            found.append((where[pos], where[pos + len(name) - 1] + 1, doc_id))
    keep = [(s, doc) for s, e, doc in found
            if not any(s2 <= s and e <= e2 and e2 - s2 > e - s and doc2 != doc for s2, e2, doc2 in found)]
    return list(dict.fromkeys(doc for _, doc in sorted(keep)))


UNIT_MAX_CHARS = 160  # a sentence longer than this is cut at its clauses (one quotable, embeddable unit)


def split_units(text: str, max_chars: int = UNIT_MAX_CHARS) -> list[str]:
    """The evidence units of a passage: its sentences, a very long one cut at clauses (，：) into pieces
    of at most ``max_chars``. The index embeds exactly these, the answer path scores exactly these."""
    out: list[str] = []
    for s in split_sentences(text):
        if len(s) <= max_chars:
            out.append(s)
            continue
        piece = ""
        for clause in re.split(r"(?<=[，,：:])", s):
            if piece and len(piece) + len(clause) > max_chars:
                out.append(piece)
                piece = ""
            piece += clause
        if piece:
            out.append(piece)
    return out
