"""Turn a heading tree into citable chunks, splitting long units at sentence ends."""

from __future__ import annotations

from policy_assistant.corpus.model import Chunk, Document, Section
from policy_assistant.corpus.text import split_sentences


def chunk_document(doc: Document, max_chars: int = 420, overlap: int = 60) -> list[Chunk]:
    """One chunk per unit with text (article, item, target, attachment entry, paragraph), plus a
    ``文件信息`` chunk with the title and the document's own date block when it has one.

    Units longer than ``max_chars`` are split at sentence ends; each part after the first starts
    with a short overlap (the previous part's last sentence when it is short). Siblings are never
    merged, so a chunk never spans two headings.
    """
    chunks: list[Chunk] = []
    units = list(doc.root.walk())
    if doc.meta_text:  # the date block (通过/公布/施行…) is citable for "when" questions
        units.insert(0, (("文件信息",), Section("文件信息", "", 1, "meta", text=f"{doc.title}\n{doc.meta_text}")))
    for path, section in units:
        text = section.text.strip()
        if not text:
            continue
        parts = split_long(text, max_chars, overlap)
        for i, part in enumerate(parts):
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    doc_id=doc.doc_id,
                    doc_title=doc.title,
                    file=doc.file,
                    doc_type=doc.doc_type,
                    path=path,
                    text=part,
                    position=len(chunks),
                    kind=section.kind,
                    part=i,
                    n_parts=len(parts),
                )
            )
    return chunks


def split_long(text: str, max_chars: int, overlap: int) -> list[str]:
    """Split ``text`` into pieces of at most about ``max_chars`` at sentence ends."""
    if len(text) <= max_chars:
        return [text]
    sentences: list[str] = []
    for sentence in split_sentences(text):
        while len(sentence) > max_chars:  # a run-on sentence: cut at the last comma before the cap
            cut = max(sentence.rfind("，", 0, max_chars), sentence.rfind(",", 0, max_chars))
            cut = cut + 1 if cut > max_chars // 3 else max_chars
            sentences.append(sentence[:cut])
            sentence = sentence[cut:]
        if sentence:
            sentences.append(sentence)
    parts: list[list[str]] = [[]]
    size = 0
    for sentence in sentences:
        if parts[-1] and size + len(sentence) > max_chars:
            tail = parts[-1][-1]
            parts.append([tail] if 0 < len(tail) <= overlap * 2 else [])
            size = sum(len(s) for s in parts[-1])
        parts[-1].append(sentence)
        size += len(sentence)
    return ["".join(p) for p in parts if p]
