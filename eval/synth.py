"""Training data that is not the test: questions generated mechanically from other laws.

The answer engine's small trained models (status, sentence choice) learn from items made here from the
scale corpus, never from the test split or the project's own documents (issue 12, item 5):

* **index laws** (:func:`select_laws`) stand in for the indexed documents: ``answered`` items quote one
  of their sentences; ``not_specified`` items hide (``mask``) the source article and are kept only
  when other chunks still mention the subject's key phrase but none of them states the asked-for
  kind of detail;
* **foreign laws** supply ``not_found`` items whose key phrases occur in no index-law chunk;
* **multi-part** items join 2–3 questions about one law into a long first-person message.

Everything is deterministic for a seed. Question templates: :mod:`policy_assistant.eval.synth_templates`;
law selection and reading: :mod:`policy_assistant.eval.synth_laws`.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from policy_assistant.core.errors import StorageError, os_error_fix
from policy_assistant.corpus.ingest import load_corpus
from policy_assistant.corpus.model import Chunk
from policy_assistant.eval.gold import normalize_for_match
from policy_assistant.eval.synth_checks import DETAIL, ForeignKeys, PhraseIndex, check_not_specified
from policy_assistant.eval.synth_laws import base_title, read_laws, select_laws
from policy_assistant.eval.synth_templates import (
    ANSWER_TYPES,
    OPENERS,
    Candidate,
    extract_candidates,
    fill,
    surface_forms,
)
from policy_assistant.index.store import sha256_file

__all__ = ["SynthItem", "generate", "make_dataset", "project_titles", "read_laws", "select_laws", "summarize",
           "write_dataset"]

GENERATOR = "policy_assistant.eval.synth"

SHARE_NOT_SPECIFIED = 0.2
SHARE_NOT_FOUND = 0.2
SHARE_MULTI = 0.16
# Answered single questions per answer type (relative weights; a type short of candidates gives its
# share to the others).
TYPE_WEIGHTS = {"penalty": 0.24, "number": 0.14, "yesno": 0.14, "who": 0.1, "definition": 0.1,
                "list": 0.1, "open": 0.1, "when": 0.08}
MULTI_MIN, MULTI_MAX = 60, 200
SITUATIONS = (
    "我在一家公司负责合规工作，最近在学习《{law}》。",
    "我们单位最近在做自查，有几个问题想请教一下。",
    "我是个体经营户，平时对法律条文不太熟悉。",
    "我刚到执法岗位上班，领导让我先把《{law}》读一遍。",
    "最近听朋友说起一件事，心里有点没底。",
    "我们公司打算扩大经营，想先把相关规定弄清楚。",
)
CONNECTORS = ("另外，", "还有，", "顺便问一下，", "再问一下，")
CLOSINGS = ("麻烦帮我看看，谢谢！", "先谢谢了。", "希望能给个明确的说法。", "")


@dataclass
class SynthItem:
    """One training question (a JSONL line).

    ``chunk_id``/``section``/``sentence`` name the source passage: for ``answered`` the sentence that
    answers (for ``list`` items the span from the head line to the last item quoted), for
    ``not_specified`` the hidden sentence (its chunk is in ``mask``), for ``not_found`` the foreign-law
    sentence the question was made from (not in the index laws). ``facts`` are verbatim strings of
    ``sentence`` a correct answer contains (empty unless answered). ``keys`` are the subject phrases
    the negative checks used. A multi-part item carries its main part's fields and all parts in ``parts``.
    """

    id: str
    q: str
    status: str
    answer_type: str
    template: str
    doc_title: str = ""
    chunk_id: str = ""
    section: str = ""
    sentence: str = ""
    facts: list[str] = field(default_factory=list)
    mask: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    parts: list[SynthItem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SynthItem:
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        fields["parts"] = [cls.from_dict(p) for p in d.get("parts", [])]
        return cls(**fields)


def _item(c: Candidate, q: str, status: str, template: str, *, mask=(), keys=()) -> SynthItem:
    return SynthItem(id="", q=q, status=status, answer_type=c.answer_type, template=template,
                     doc_title=c.chunk.doc_title, chunk_id=c.chunk.chunk_id, section=c.chunk.section,
                     sentence=c.sentence, facts=list(c.facts) if status == "answered" else [],
                     mask=list(mask), keys=list(keys))


def _queues(cands: dict[str, list[Candidate]], rng: random.Random) -> dict[str, list[tuple]]:
    """Per answer type, ``(candidate, template, pattern, names_law)`` in draw order: every candidate once
    in a random form before any candidate is used in a second form."""
    out: dict[str, list[tuple]] = {}
    for kind in ANSWER_TYPES:
        rounds: list[list[tuple]] = []
        for c in cands.get(kind, []):
            forms = surface_forms(c)
            rng.shuffle(forms)
            for r, form in enumerate(forms):
                while len(rounds) <= r:
                    rounds.append([])
                rounds[r].append((c, *form))
        for r in rounds:
            rng.shuffle(r)
        out[kind] = [x for r in rounds for x in r]
    return out


class _Drawer:
    """Draws questions by type quota, skipping repeats and excluded questions."""

    def __init__(self, rng: random.Random, exclude: set[str]):
        self.rng = rng
        self.seen = set(exclude)

    def fresh(self, q: str) -> bool:
        key = normalize_for_match(q)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def draw(self, queues: dict[str, list[tuple]], total: int, weights: dict[str, float],
             make: Callable[[tuple, str], SynthItem | None]) -> list[SynthItem]:
        """Up to ``total`` items, split over the types by ``weights``; ``make(entry, opener)`` returns the
        item or None to reject the entry. A type that runs dry leaves its share to the others."""
        out: list[SynthItem] = []
        pos = dict.fromkeys(queues, 0)
        live = [k for k in weights if queues.get(k)]
        while len(out) < total and live:
            w = sum(weights[k] for k in live)
            quota = {k: math.ceil((total - len(out)) * weights[k] / w) for k in live}
            for kind in list(live):
                got = 0
                while got < quota[kind] and len(out) < total and pos[kind] < len(queues[kind]):
                    entry = queues[kind][pos[kind]]
                    pos[kind] += 1
                    item = make(entry, self.rng.choice(OPENERS))
                    if item is not None and self.fresh(item.q):
                        out.append(item)
                        got += 1
                if pos[kind] >= len(queues[kind]):
                    live.remove(kind)
        return out


def _part(c: Candidate, q: str, status: str = "answered", **kw) -> tuple[str, SynthItem]:
    return q, _item(c, q, status, f"{c.answer_type}.part", **kw)


def _multi(law_cands: list[Candidate], ns_cands: list[tuple], rng: random.Random,
           drawer: _Drawer) -> SynthItem | None:
    """One long first-person message with 2–3 questions about articles of one law: a situation
    sentence, the main question (a fine with its organ asks two things), one or two more articles, at
    times one whose article is hidden (a not_specified part)."""
    penalties = [c for c in law_cands if c.answer_type == "penalty" and c.slots["organ"]]
    main = rng.choice(penalties) if penalties and rng.random() < 0.6 else rng.choice(law_cands)
    if main.answer_type == "penalty" and main.slots["organ"]:
        who = Candidate("who", main.chunk, main.sentence, [main.slots["organ"]], main.subject, main.slots)
        parts = [_part(main, f"如果{main.slots['cond']}，会不会被罚？罚多少？"), _part(who, "这种情况归哪个部门管？")]
        target = 3
    else:
        parts = [_part(main, fill(main, surface_forms(main)[0][1], ""))]
        target = rng.choice((2, 3))
    used = {main.unit_key}
    others = [c for c in law_cands if c.unit_key not in used and c.answer_type != "when"]
    rng.shuffle(others)
    answered_ids = {main.chunk.chunk_id}
    while len(parts) < target:
        if len(parts) == target - 1 and rng.random() < 0.25:
            fitting = [x for x in ns_cands if x[0].unit_key not in used and not answered_ids & set(x[2])]
            if fitting:
                c, kp, mask = rng.choice(fitting)
                parts.append(_part(c, rng.choice(CONNECTORS) + fill(c, surface_forms(c)[0][1], ""),
                                   "not_specified", mask=mask, keys=[kp]))
                break
        c = next((c for c in others if c.unit_key not in used), None)
        if c is None:
            break
        used.add(c.unit_key)
        answered_ids.add(c.chunk.chunk_id)
        parts.append(_part(c, rng.choice(CONNECTORS) + fill(c, surface_forms(c)[0][1], "")))
    law = main.law
    situations = [s.format(law=law) for s in SITUATIONS]
    situation = rng.choice(situations)
    closing = rng.choice(CLOSINGS)
    text = ""
    while len(parts) >= 2:
        text = situation + "".join(q for q, _ in parts) + closing
        if len(text) < MULTI_MIN:
            text = situation + rng.choice([s for s in situations if s != situation]) + text[len(situation):]
        if MULTI_MIN <= len(text) <= MULTI_MAX:
            break
        parts.pop()
    if len(parts) < 2 or not MULTI_MIN <= len(text) <= MULTI_MAX or not drawer.fresh(text):
        return None
    head = parts[0][1]
    mask = list(dict.fromkeys(m for _, p in parts for m in p.mask))
    return SynthItem(id="", q=text, status="answered", answer_type=head.answer_type,
                     template=f"multi.{head.answer_type}", doc_title=head.doc_title, chunk_id=head.chunk_id,
                     section=head.section, sentence=head.sentence, facts=list(head.facts), mask=mask,
                     parts=[p for _, p in parts])


def generate(index_chunks: list[Chunk], foreign_chunks: list[Chunk], seed: int = 7, n: int = 3000,
             exclude_questions: set[str] | frozenset[str] = frozenset()) -> list[SynthItem]:
    """``n`` items (fewer when the laws run out of checked negatives): ~20 % not_specified, ~20 %
    not_found, ≥ 15 % multi-part, the rest answered single questions. ``exclude_questions`` (e.g. the
    gold questions) are never produced. Deterministic for ``seed``."""
    rng = random.Random(seed)
    drawer = _Drawer(rng, {normalize_for_match(q) for q in exclude_questions})
    idx = PhraseIndex(index_chunks)
    cands = extract_candidates(index_chunks)
    n_ns, n_nf, n_multi = round(n * SHARE_NOT_SPECIFIED), round(n * SHARE_NOT_FOUND), math.ceil(n * SHARE_MULTI)

    ns_checked: dict[int, tuple | None] = {}

    def ns_check(c: Candidate):
        if id(c) not in ns_checked:
            ns_checked[id(c)] = check_not_specified(c, idx)
        return ns_checked[id(c)]

    def make_ns(entry, opener):
        c, template, pattern, _ = entry
        found = ns_check(c)
        return _item(c, fill(c, pattern, opener), "not_specified", template, mask=found[1], keys=[found[0]]) if found else None

    not_specified = drawer.draw(_queues(cands, rng), n_ns, {k: 1.0 for k in DETAIL}, make_ns)

    keys_of = ForeignKeys(foreign_chunks)

    def make_nf(entry, opener):
        c, template, pattern, names_law = entry
        keys = keys_of(c.subject) if c.answer_type != "when" else [c.law]
        if names_law and c.law not in keys:
            keys.append(c.law)
        if not keys or keys == [c.law] and c.answer_type != "when" or any(idx.mentions(k) for k in keys):
            return None
        return _item(c, fill(c, pattern, opener), "not_found", template, keys=keys)

    not_found = drawer.draw(_queues(extract_candidates(foreign_chunks), rng), n_nf, TYPE_WEIGHTS, make_nf)

    by_law: dict[str, list[Candidate]] = {}
    for kind in ANSWER_TYPES:
        for c in cands[kind]:
            by_law.setdefault(c.chunk.doc_id, []).append(c)
    ns_by_law: dict[str, list[tuple]] = {}
    for c in [c for kind in DETAIL for c in cands[kind]]:
        if id(c) in ns_checked and ns_checked[id(c)]:
            ns_by_law.setdefault(c.chunk.doc_id, []).append((c, *ns_checked[id(c)]))
    laws = [d for d, cs in by_law.items() if len({c.unit_key for c in cs}) >= 3]
    multi: list[SynthItem] = []
    for _ in range(n_multi * 4):
        if len(multi) >= n_multi or not laws:
            break
        law = rng.choice(laws)
        item = _multi(by_law[law], ns_by_law.get(law, []), rng, drawer)
        if item:
            multi.append(item)

    def make_answered(entry, opener):
        c, template, pattern, _ = entry
        return _item(c, fill(c, pattern, opener), "answered", template)

    n_single = n - len(not_specified) - len(not_found) - len(multi)
    answered = drawer.draw(_queues(cands, rng), n_single, TYPE_WEIGHTS, make_answered)
    items = answered + multi + not_specified + not_found
    rng.shuffle(items)
    for i, item in enumerate(items):
        item.id = f"syn{seed}-{i:05d}"
        for k, part in enumerate(item.parts):
            part.id = f"{item.id}.{k}"
    return items


def summarize(items: list[SynthItem]) -> dict[str, Counter]:
    """Counts per status, answer type and template (multi-part items counted as ``multi``)."""
    return {
        "status": Counter(it.status for it in items),
        "answer_type": Counter("multi" if it.parts else it.answer_type for it in items),
        "template": Counter(it.template for it in items),
    }


def project_titles(corpus_dirs: list[Path]) -> set[str]:
    """Titles and file base titles of the project's own documents (never used as training laws)."""
    docs = load_corpus(corpus_dirs).documents
    return {d.title for d in docs} | {base_title(d.file) for d in docs}


def make_dataset(scale_dir: Path, exclude_titles: set[str], *, n: int = 3000, seed: int = 7, n_index: int = 60,
                 n_foreign: int = 200, exclude_questions: set[str] | frozenset[str] = frozenset(),
                 max_chars: int = 420, overlap: int = 60) -> tuple[list[SynthItem], dict]:
    """Select and read the laws, generate ``n`` items; returns the items and the laws manifest
    (every index and foreign law file with its sha256, the seed and the counts)."""
    scale_dir = Path(scale_dir)
    index_files, foreign_files = select_laws(scale_dir, exclude_titles, n_index, n_foreign, seed)
    items = generate(read_laws(index_files, max_chars, overlap), read_laws(foreign_files, max_chars, overlap),
                     seed=seed, n=n, exclude_questions=exclude_questions)

    def listing(files: list[Path]) -> list[dict]:
        return [{"file": p.relative_to(scale_dir).as_posix(), "title": base_title(p.name), "sha256": sha256_file(p)}
                for p in files]

    manifest = {"generator": GENERATOR, "seed": seed, "n": len(items), "scale_dir": str(scale_dir),
                "chunking": {"max_chars": max_chars, "overlap": overlap},
                "index_laws": listing(index_files), "foreign_laws": listing(foreign_files)}
    return items, manifest


def laws_path(out: Path) -> Path:
    """``FILE.laws.json`` next to ``FILE``."""
    return out.with_name(out.name + ".laws.json")


def _written_by_us(path: Path) -> bool:
    """True when ``path`` does not exist or holds a file this module wrote (so it may be replaced)."""
    if not path.exists():
        return True
    try:
        with open(path, encoding="utf-8") as f:
            head = f.readline() if path.suffix == ".jsonl" else f.read()
        data = json.loads(head)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if path.suffix == ".jsonl":
        return isinstance(data, dict) and str(data.get("id", "")).startswith("syn") and "template" in data
    return isinstance(data, dict) and data.get("generator") == GENERATOR


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc.strerror}", os_error_fix(exc, str(path.parent))) from exc


def check_out(out: Path) -> None:
    """Raise :class:`StorageError` unless ``out`` and ``out.laws.json`` are new or this module's own files."""
    for path in (Path(out), laws_path(Path(out))):
        if path.is_dir() or not _written_by_us(path):
            raise StorageError(f"{path} exists and was not written by `policy-assistant eval synth`",
                               "choose another --out or move the file away")


def write_dataset(items: list[SynthItem], manifest: dict, out: Path) -> tuple[Path, Path]:
    """Write the items as JSONL to ``out`` and the manifest to ``out.laws.json`` (each replaced in one
    step). Refuses to replace a file that this module did not write."""
    out = Path(out)
    laws = laws_path(out)
    check_out(out)
    _write_atomic(out, "".join(json.dumps(it.to_dict(), ensure_ascii=False) + "\n" for it in items))
    _write_atomic(laws, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return out, laws


def read_dataset(path: Path) -> list[SynthItem]:
    """Items from a JSONL file written by :func:`write_dataset`."""
    with open(path, encoding="utf-8") as f:
        return [SynthItem.from_dict(json.loads(line)) for line in f if line.strip()]
