"""Parse cleaned body lines into a heading tree.

Two layouts occur in Chinese policy texts:

* laws and regulations: ``第X编`` / ``第X章`` / ``第X节`` headings and ``第X条`` articles (items such as
  ``（一）`` inside an article belong to the article);
* policy documents: ``一、`` / ``（一）`` / ``1.`` / ``（1）`` headings, ``附件N`` attachments with their
  own numbered items and flattened tables.
"""

from __future__ import annotations

import re

from policy_assistant.corpus.model import Section
from policy_assistant.corpus.text import CN_NUMERALS, cn_to_int, int_to_cn, squeeze_cjk_spaces

_LAW_HEADING = re.compile(rf"^第([{CN_NUMERALS}]+)([编章节])\s*(.*)$")
_ARTICLE = re.compile(rf"^(第[{CN_NUMERALS}]+条(?:之[{CN_NUMERALS}]+)?)\s*(.*)$")
_L1 = re.compile(rf"^([{CN_NUMERALS}]+)、\s*(.*)$")
_L1_MISSING = re.compile(r"^、\s*(\S.*)$")
_L2 = re.compile(rf"^[（(]([{CN_NUMERALS}]+)[）)]\s*(.*)$")
_L3 = re.compile(r"^(\d{1,3})[.．、](?!\d)\s*(.*)$")
_L4 = re.compile(r"^[（(](\d{1,3})[）)]\s*(.*)$")
_ATTACHMENT = re.compile(r"^附件\s*(\d+)\s*[:：]?\s*$")
_ATTACHMENT_LIST = re.compile(r"^附件\s*[:：]\s*(.*)$")
_SUBHEAD_QUOTED = re.compile(r"^[\"“「《][^。，,；;]{2,30}[\"”」》]$")
_LAW_LEVEL = {"编": 1, "章": 2, "节": 3}
_TABLE_HEADER = {"序号", "序 号"}


def is_law_layout(lines: list[str]) -> bool:
    """True when the body is organised in ``第X条`` articles."""
    return sum(1 for ln in lines if _ARTICLE.match(ln)) >= 3


def parse_structure(lines: list[str], warnings: list[str] | None = None) -> Section:
    """Build the heading tree for a document body."""
    warnings = warnings if warnings is not None else []
    if is_law_layout(lines):
        return _parse_law(lines)
    return _parse_policy(lines, warnings)


class _TextParts:
    """Each node's continuation lines, joined once when the parse ends.

    Appending to a growing string copies it every time, which made ingest quadratic in the length of a
    section (a 50 MB file did not finish in 27 minutes); collecting the lines keeps it linear.
    """

    def __init__(self) -> None:
        self._parts: dict[int, tuple[Section, list[str]]] = {}

    def add(self, node: Section, line: str) -> None:
        entry = self._parts.get(id(node))
        if entry is None:
            entry = self._parts[id(node)] = (node, [node.text] if node.text else [])
        parts = entry[1]
        if any(parts):
            parts.append(line)
        else:  # nothing but empty text so far: the line replaces it (as "text = line" did)
            parts[:] = [line]

    def finish(self) -> None:
        for node, parts in self._parts.values():
            node.text = "\n".join(parts)


def _parse_law(lines: list[str]) -> Section:
    root = Section("", "", 0, "root")
    stack: list[Section] = [root]  # headings (编/章/节)
    article: Section | None = None
    preamble: Section | None = None
    text = _TextParts()
    for line in lines:
        m = _LAW_HEADING.match(line)
        if m and len(line) <= 40 and not re.search(r"[。；;]", line):
            level = _LAW_LEVEL[m.group(2)]
            label = f"第{m.group(1)}{m.group(2)}"
            title = squeeze_cjk_spaces(m.group(3).strip())
            node = Section(label, title, level, "chapter" if m.group(2) != "节" else "section")
            while len(stack) > 1 and stack[-1].level >= level:
                stack.pop()
            stack[-1].children.append(node)
            stack.append(node)
            article = None
            continue
        m = _ARTICLE.match(line)
        if m:
            article = Section(m.group(1), "", 9, "article", text=line)
            stack[-1].children.append(article)
            continue
        if article is not None:
            text.add(article, line)
        elif len(stack) > 1:
            text.add(stack[-1], line)
        else:
            if preamble is None:
                preamble = Section("前言", "", 1, "preamble")
                root.children.append(preamble)
            text.add(preamble, line)
    text.finish()
    return root


def _split_title(rest: str) -> tuple[str, bool]:
    """For ``（一）空气环境质量。市城区…`` return (``空气环境质量``, True); heading-only lines return (rest, False)."""
    m = re.match(r"^([^。，,；;:：]{2,30})[。:：]\s*(.+)$", rest)
    if m:
        return m.group(1), True
    if re.search(r"[。；;]", rest) or len(rest) > 40:
        return "", True
    return rest, False


def _parse_policy(lines: list[str], warnings: list[str]) -> Section:
    root = Section("", "", 0, "root")
    stack: list[Section] = [root]
    current: Section | None = None  # the node whose text continues on plain lines
    l1_count = 0
    in_attachment = False
    attachment_list: Section | None = None
    table_rows: list[list[str]] | None = None
    text = _TextParts()

    def push(node: Section) -> Section:
        while len(stack) > 1 and stack[-1].level >= node.level:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
        return node

    def flush_table() -> None:
        nonlocal table_rows
        if table_rows:
            parent = stack[-1]
            for row in table_rows:
                num, cells = row[0], row[1:]
                name = cells[0] if cells else ""
                body = "。".join(squeeze_cjk_spaces(c).rstrip("。") for c in cells if c)
                parent.children.append(Section(f"{num}.", name, parent.level + 1, "attachment_item", text=body + "。"))
        table_rows = None

    for line in lines:
        if table_rows is not None:
            if _ATTACHMENT.match(line):
                flush_table()
            elif re.fullmatch(r"\d{1,3}", line):
                table_rows.append([line])
                continue
            elif table_rows:
                table_rows[-1].append(line)
                continue
            else:
                continue  # header cells before the first row
        m = _ATTACHMENT.match(line)
        if m:
            in_attachment = True
            attachment_list = None
            current = push(Section(f"附件{m.group(1)}", "", 1, "attachment"))
            continue
        m = _ATTACHMENT_LIST.match(line)
        if m and not in_attachment:
            attachment_list = push(Section("附件", "", 1, "attachment_list", text=line))
            current = attachment_list
            continue
        if attachment_list is not None and not in_attachment:
            text.add(attachment_list, line)
            continue
        if in_attachment and line.replace(" ", "") in _TABLE_HEADER:
            table_rows = []
            continue
        if in_attachment and _SUBHEAD_QUOTED.match(line):
            current = push(Section("", line, 2, "group"))
            continue
        if in_attachment and stack[-1].kind == "attachment" and not stack[-1].children and not stack[-1].title \
                and not _L3.match(line) and len(line) <= 40 and not re.search(r"[。；;]", line):
            stack[-1].title = line  # e.g. 附件2's title line
            continue
        m = _L1.match(line)
        if m and not in_attachment:
            l1_count = cn_to_int(m.group(1)) or l1_count + 1
            title, _ = _split_title(m.group(2))
            node = push(Section(f"{m.group(1)}、", title or m.group(2), 1, "heading"))
            if title and m.group(2) != title:
                node.text = line
            current = node
            continue
        m = _L1_MISSING.match(line)
        if m and not in_attachment:
            l1_count += 1
            label = f"{int_to_cn(l1_count)}、"
            warnings.append(f"heading '{line}' has no number; placed as '{label}{m.group(1)}' (top-level section {l1_count})")
            current = push(Section(label, m.group(1), 1, "heading"))
            continue
        m = _L2.match(line)
        if m:
            title, has_text = _split_title(m.group(2))
            kind = "target" if any("目标" in s.title for s in stack) else ("heading" if not has_text else "item")
            node = push(Section(f"（{m.group(1)}）", title, 2, kind, text=line if has_text else ""))
            current = node
            continue
        m = _L3.match(line)
        if m:
            kind = "attachment_item" if in_attachment else "item"
            current = push(Section(f"{m.group(1)}.", "", 3, kind, text=line))
            continue
        m = _L4.match(line)
        if m:
            current = push(Section(f"（{m.group(1)}）", "", 4, "item", text=line))
            continue
        if current is None:
            current = push(Section("导语", "", 1, "preamble"))
        text.add(current, line)
    if table_rows is not None:
        flush_table()
    text.finish()
    return root
