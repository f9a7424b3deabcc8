"""Text clean-up shared by ingest and query processing."""

from __future__ import annotations

import re
import unicodedata

import zhconv

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Full-width space, no-break space and other odd spaces become one ASCII space.
ODD_SPACES = re.compile(r"[\u3000\u00a0\u2002\u2003\u2009\u202f\t]")
CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}])[ ]+(?=[{CJK}])")
SENTENCE_END = "。；！？;!?"
_SENTENCE_RE = re.compile(rf"[^{SENTENCE_END}]*[{SENTENCE_END}]+[”\"’」』)）]*|[^{SENTENCE_END}]+$")


def clean_line(line: str) -> str:
    """Remove zero-width characters, normalise odd spaces, strip the ends."""
    line = line.translate(ZERO_WIDTH)
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


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
    private = sum(1 for ch in text if unicodedata.category(ch) in {"Co", "Cn", "Cs"})
    return (control + private) / len(text) > 0.01


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (``森林覆蓋率`` → ``森林覆盖率``)."""
    return zhconv.convert(text, "zh-cn")


def normalize_query(text: str) -> str:
    """Query normalisation: zero-width removal, full-width → half-width (NFKC), 繁→简, one space."""
    text = unicodedata.normalize("NFKC", text.translate(ZERO_WIDTH))
    text = to_simplified(text)
    return re.sub(r"\s+", " ", text).strip()


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
    one does not start a new article, chapter or list item.
    """
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and _continues(out[-1], line):
            prev = out[-1]
            ascii_join = prev[-1].isascii() and prev[-1].isalnum() and line[0].isascii() and line[0].isalnum()
            sep = " " if ascii_join or _ARTICLE_ALONE.match(prev) else ""
            out[-1] = prev + sep + line
        else:
            out.append(line)
    return out


_NEW_BLOCK = re.compile(r"^(第[一二三四五六七八九十百千零〇两]+[编章节条]|[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+、|\d+[.．、])")
_ARTICLE_ALONE = re.compile(r"^第[一二三四五六七八九十百千零〇两]+条$")


def _continues(prev: str, line: str) -> bool:
    if _NEW_BLOCK.match(line):
        return False
    if _ARTICLE_ALONE.match(prev):
        return True  # "第一条" printed on its own line: its text follows
    if re.match(r"^第[一二三四五六七八九十百千零〇两]+[编章节]", prev):
        return False
    return prev[-1] not in "。：:；;！!？?"


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
