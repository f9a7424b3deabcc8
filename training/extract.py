"""Read the structures quizzes and the reader need out of ingested documents.

Pure functions over :class:`corpus.model.Document` / ``Section`` trees: target sections, named lists
(attachment groups such as "七大示范工程", inline counted lists such as "四个清单", numbered
enumerations inside law articles), law articles and their sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from policy_assistant.corpus.model import BREADCRUMB_SEP, DOC_TYPE_WORK_POINTS, Document, Section
from policy_assistant.corpus.text import CN_NUMERALS, cn_to_int, split_sentences

_LABEL_PREFIX = re.compile(
    rf"^\s*(?:第[{CN_NUMERALS}]+条\s*|[（(][一二三四五六七八九十]+[）)]\s*|\d+[.．、]\s*|"
    r"[一二三四五六七八九十]+、\s*)"
)
_ENUM_LINE = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]\s*(.+)$")
_COUNTED = re.compile(r"[\"“]?([两二三四五六七八九十])(个|大|项|类)([\u4e00-\u9fff]{2,8})[\"”]?")
_VERB_PREFIX = re.compile(
    r"^(?:认真|全力|组织|加快|深入|积极|持续|大力|进一步|着力|继续|严格)*"
    r"(?:梳理完善|打造|开展|推进|实施|完善|包括|建设|推动|抓好|落实|实行)"
)
DEPENDENT_START = ("前款", "依照前款", "有前款", "违反前款", "前两款", "前三款", "本条", "其中", "但", "并")


@dataclass
class ListItem:
    label: str
    text: str
    path: tuple[str, ...]  # section path of the item's own unit (or of the unit holding an inline list)


@dataclass
class NamedList:
    """A list worth a pick-the-missing-item question."""

    name: str  # "七大示范工程", "四个清单", "第十三条" …
    kind: str  # "attachment" | "inline" | "enumeration"
    doc_id: str
    doc_title: str
    doc_type: str
    path: tuple[str, ...]  # the section holding the list
    items: list[ListItem]
    intro: str = ""  # text introducing the list ("排污许可证应当记载下列信息：") or the sentence around it
    source_text: str = ""
    extra: dict = field(default_factory=dict)


def breadcrumb(doc: Document, path: tuple[str, ...]) -> str:
    return BREADCRUMB_SEP.join((doc.title, *path))


def strip_label(text: str) -> str:
    """Drop a leading unit label (``第十四条``, ``(一)``, ``19.``, ``三、``)."""
    return _LABEL_PREFIX.sub("", text, count=1).strip()


def full_text(section: Section) -> str:
    """A section's own text followed by its descendants' (headings included), in document order."""
    parts = [section.text.strip()] if section.text.strip() else []
    for _path, child in section.walk():
        if child.text.strip():
            parts.append(child.text.strip())
        elif child.heading:
            parts.append(child.heading)
    return "\n".join(parts)


def find_path(doc: Document, path: tuple[str, ...]) -> Section | None:
    for p, sec in doc.root.walk():
        if p == tuple(path):
            return sec
    return None


def is_work_points(doc: Document) -> bool:
    return doc.doc_type == DOC_TYPE_WORK_POINTS


def target_sections(doc: Document) -> list[tuple[tuple[str, ...], Section]]:
    """The target groups (``kind == 'target'``), e.g. the six under 二、主要目标."""
    return [(p, s) for p, s in doc.root.walk() if s.kind == "target"]


def articles(doc: Document) -> list[tuple[tuple[str, ...], Section]]:
    return [(p, s) for p, s in doc.root.walk() if s.kind == "article" and s.text.strip()]


def article_number(label: str) -> int:
    m = re.match(rf"第([{CN_NUMERALS}]+)条", label)
    return (cn_to_int(m.group(1)) or 0) if m else 0


def usable_sentence(s: str, lo: int = 10, hi: int = 110) -> bool:
    """A self-contained sentence: not a list intro, not dependent on a previous paragraph."""
    s = s.strip()
    return lo <= len(s) <= hi and not s.endswith(("：", ":")) and not s.startswith(DEPENDENT_START) and not (
        _ENUM_LINE.match(s))


def unit_sentences(section: Section) -> list[str]:
    """Sentences of a unit's own text without its label (and without a work-point target's title)."""
    body = strip_label(section.text)
    if section.kind == "target" and section.title and body.startswith(section.title):
        body = body[len(section.title):].lstrip("。.:： ")
    if section.kind == "item":
        first = split_sentences(body)[:1]
        if first and len(first[0]) <= 25:  # "继续抓好习近平生态文明思想宣传。" is a heading, not a statement
            body = body[len(first[0]):]
    return split_sentences(body)


def clause_around(text: str, start: int, end: int, min_lead: int = 6) -> tuple[int, int]:
    """Span of the clause holding ``text[start:end]`` (between ，；。 marks), widened when it starts too close."""
    marks = "，,；;。：:\n"
    s = max(text.rfind(m, 0, start) for m in marks) + 1
    ends = [i for i in (text.find(m, end) for m in marks) if i >= 0]
    e = min(ends) if ends else len(text)
    if start - s < min_lead and s > 0:
        s = max(text.rfind(m, 0, s - 1) for m in marks) + 1
    return s, e


def item_lead(section: Section, limit: int = 22) -> str:
    """A short label for an untitled unit: ``19. 深入开展"八大攻坚行动"`` / ``第十四条 排污许可证有效期为5年``."""
    if section.title:
        return section.title
    body = strip_label(section.text)
    first = re.split(r"[。；;！？\n]", body, maxsplit=1)[0]
    return first if len(first) <= limit else first[:limit] + "…"


# --------------------------------------------------------------------------- lists


def _walk_with_doc(doc: Document) -> Iterator[tuple[tuple[str, ...], Section]]:
    yield from doc.root.walk()


def attachment_lists(doc: Document) -> list[NamedList]:
    """Groups of attachment items (附件1 "七大示范工程" …) and attachments listing entries (附件2)."""
    out = []
    for path, sec in _walk_with_doc(doc):
        kids = [c for c in sec.children if c.kind == "attachment_item"]
        if sec.kind not in ("group", "attachment") or len(kids) < 2:
            continue
        name = (sec.title or sec.heading).strip('"“”')
        items = [ListItem(k.label, k.title or strip_label(k.text), (*path, k.heading)) for k in kids]
        src = "\n".join(k.text.strip() for k in kids)
        out.append(NamedList(name, "attachment", doc.doc_id, doc.title, doc.doc_type, path, items,
                             intro=f"{path[0]}“{name}”" if len(path) > 1 else name, source_text=src))
    return out


def inline_lists(doc: Document) -> list[NamedList]:
    """Lists written in a sentence and counted by a name: ``A、B、C、D"四个清单"``."""
    out = []
    for path, sec in _walk_with_doc(doc):
        if not sec.text or sec.kind in ("attachment_list",):
            continue
        for clause in re.split(r"[，,。；;：:\n]", sec.text):
            for m in _COUNTED.finditer(clause):
                n = cn_to_int(m.group(1))
                seg = clause[: m.start()].rstrip("等")
                parts = [p.strip() for p in seg.split("、")]
                if n is None or len(parts) != n:
                    continue
                parts[0] = _VERB_PREFIX.sub("", strip_label(parts[0]))
                if any(not (4 <= len(p) <= 30) for p in parts):
                    continue
                name = "".join(m.group(1, 2, 3))
                items = [ListItem(str(i + 1), p, path) for i, p in enumerate(parts)]
                out.append(NamedList(name, "inline", doc.doc_id, doc.title, doc.doc_type, path, items,
                                     intro=clause.strip(), source_text=sec.text.strip(),
                                     extra={"label": f"{sec.heading} {item_lead(sec)}".strip()}))
    return out


def enumerations(doc: Document, min_items: int = 3, max_items: int = 8, max_len: int = 60) -> list[NamedList]:
    """Numbered enumerations ``(一)… (二)…`` inside articles, each introduced by a line ending in ``：``."""
    out = []
    for path, sec in articles(doc):
        lines = [ln.strip() for ln in sec.text.split("\n") if ln.strip()]
        i = 0
        while i < len(lines):
            m = _ENUM_LINE.match(lines[i])
            if not m or cn_to_int(m.group(1)) != 1 or i == 0:
                i += 1
                continue
            intro_line = strip_label(lines[i - 1])
            group = []
            while i < len(lines) and (m := _ENUM_LINE.match(lines[i])) and cn_to_int(m.group(1)) == len(group) + 1:
                group.append(ListItem(f"（{m.group(1)}）", m.group(2).rstrip("；;。，,").strip(), path))
                i += 1
            sentences = split_sentences(intro_line)
            intro_sentence = intro_line if len(intro_line) <= 120 else (sentences[-1] if sentences else "")
            if (min_items <= len(group) <= max_items and all(2 <= len(it.text) <= max_len for it in group)
                    and intro_sentence.endswith(("：", ":"))):
                out.append(NamedList(sec.label, "enumeration", doc.doc_id, doc.title, doc.doc_type, path, group,
                                     intro=intro_sentence, source_text=sec.text.strip()))
    return out


def named_lists(doc: Document) -> list[NamedList]:
    """All lists of a document; an inline list already printed as an attachment group is left out."""
    groups = attachment_lists(doc)
    seen = {g.name for g in groups}
    inline = [x for x in inline_lists(doc) if not any(x.name[:4] in g or g[:4] in x.name for g in seen)]
    return groups + inline + enumerations(doc)
