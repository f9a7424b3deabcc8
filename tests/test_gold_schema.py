"""The gold set: schema, counts, and every fact / source string checked against the raw corpus files.

The corpus is read here independently of the ingest code (encoding detection, python-docx, pypdf), so a
bug in ingest cannot hide a wrong gold item. The same schema and corpus checks run over the frozen test
split ``eval/test.jsonl`` (see docs/eval.md, "Frozen test split"), which also has its own count checks, and
over the development set of long everyday questions ``eval/dev_long.jsonl`` (docs/eval.md).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.eval.gold import (
    CATEGORIES,
    DEFAULT_GOLD_PATH,
    GoldItem,
    GoldSetError,
    GoldSource,
    facts_match,
    load_gold,
    normalize_for_match,
    smoke_items,
    source_matches,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT.parent / "shared" / "corpus"
THALLIUM_Q = "谁牵头铊污染专项治理攻坚行动?"
# The frozen test split: same schema as gold.jsonl, never used for tuning (docs/eval.md).
TEST_SPLIT_PATH = DEFAULT_GOLD_PATH.parent / "test.jsonl"
# Development set of long everyday questions: same schema, tuning allowed (docs/eval.md).
DEV_LONG_PATH = DEFAULT_GOLD_PATH.parent / "dev_long.jsonl"
SPLITS = {"gold": DEFAULT_GOLD_PATH, "test": TEST_SPLIT_PATH, "dev_long": DEV_LONG_PATH}

needs_corpus = pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason=f"corpus not found at {CORPUS_DIR}")

_ZW = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CN_NUM = "零一二三四五六七八九十百"
# An article starts a line: "第十四条 …" or "第一条为了…" (PDF); "第六条、" is a cross-reference in a wrapped line.
_ARTICLE_START = re.compile(rf"^\s*(第[{_CN_NUM}]+条)(?![、的])")
_CHAPTER = re.compile(rf"^\s*(##\s|第[{_CN_NUM}]+章)")


# --------------------------------------------------------------------------------------------------
# Reading the raw corpus


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_lines(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix in (".md", ".txt"):
        lines = _decode(path.read_bytes()).splitlines()
    elif suffix == ".docx":
        import docx

        lines = [p.text for p in docx.Document(str(path)).paragraphs]
    elif suffix == ".pdf":
        from pypdf import PdfReader

        lines = []
        for page in PdfReader(str(path)).pages:
            lines.extend((page.extract_text() or "").splitlines())
    else:
        return []
    return [_ZW.sub("", line) for line in lines]


def _title(lines: list[str]) -> str:
    """The first title line: ``# 中华人民共和国…`` in .md; otherwise the first line that is not site navigation."""
    for line in lines:
        s = line.strip()
        if not s or s.startswith("当前位置"):
            continue
        return s.lstrip("#").strip()
    return ""


@cache
def corpus() -> dict[str, tuple[str, list[str], str]]:
    """file name → (title, lines, whole text; PDF lines joined without newlines)."""
    docs = {}
    for path in sorted(CORPUS_DIR.iterdir()):
        lines = _read_lines(path)
        if not lines:
            continue
        joiner = "" if path.suffix.lower() == ".pdf" else "\n"
        docs[path.name] = (_title(lines), lines, joiner.join(lines))
    return docs


def find_doc(doc: str) -> str:
    """The one corpus file whose title contains ``doc``."""
    hits = [name for name, (title, _, _) in corpus().items() if normalize_for_match(doc) in normalize_for_match(title)]
    assert len(hits) == 1, f"doc {doc!r} must match exactly one document title, matched {hits}"
    return hits[0]


def _between(lines: list[str], start: re.Pattern, stop: re.Pattern) -> list[str]:
    """Blocks of lines from each line matching ``start`` up to the next line matching ``stop``."""
    blocks, cur = [], None
    for line in lines:
        if cur is not None and stop.search(line):
            blocks.append("".join(cur))
            cur = None
        if start.search(line):
            cur = [line]
        elif cur is not None:
            cur.append(line)
    if cur is not None:
        blocks.append("".join(cur))
    return blocks


def scoped_passages(file_name: str, section: str) -> list[str]:
    """The raw passages a gold ``section`` points to in a document, for the section kinds we can locate
    without the ingest code: articles (第X条), work-point items (19.), 主要目标, 总体思路, 附件1/附件2.
    Unknown or empty sections → the whole document."""
    _, lines, text = corpus()[file_name]
    s = section.strip()
    if re.fullmatch(rf"第[{_CN_NUM}]+条", s):
        blocks = []
        cur: list[str] | None = None
        for line in lines:
            m = _ARTICLE_START.match(line)
            if (m or _CHAPTER.match(line)) and cur is not None:
                blocks.append("".join(cur))
                cur = None
            if m and m.group(1) == s:
                cur = [line]
            elif cur is not None:
                cur.append(line)
        if cur is not None:
            blocks.append("".join(cur))
        return blocks
    if re.fullmatch(r"\d+\.", s):
        return [line for line in lines if line.strip().startswith(s)]
    if s == "主要目标":
        return _between(lines, re.compile(r"^二、主要目标"), re.compile(r"^三?、主要任务"))
    if s == "总体思路":
        return _between(lines, re.compile(r"^一、总体思路"), re.compile(r"^二、主要目标"))
    if s in ("附件1", "附件2"):
        return _between(lines, re.compile(rf"^\s*{s}\s*$"), re.compile(r"^\s*(附件\d|友情链接)\s*$"))
    return [text]


# --------------------------------------------------------------------------------------------------
# The real gold file


@pytest.fixture(scope="module")
def gold() -> list[GoldItem]:
    return load_gold()


@pytest.fixture(scope="module", params=sorted(SPLITS))
def split_items(request) -> list[GoldItem]:
    """Each item file in turn (gold.jsonl, test.jsonl), for the checks both files must pass."""
    return load_gold(SPLITS[request.param])


@pytest.fixture(scope="module")
def test_split() -> list[GoldItem]:
    return load_gold(TEST_SPLIT_PATH)


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_split_file_format(split):
    path = SPLITS[split]
    assert path.is_file()
    items = load_gold(path)
    assert len({it.id for it in items}) == len(items)
    # one JSON object per line, written with ensure_ascii=False
    raw = path.read_text(encoding="utf-8")
    assert "\\u" not in raw
    for line in raw.splitlines():
        if line.strip():
            assert isinstance(json.loads(line), dict)


def test_gold_file_loads(gold):
    assert DEFAULT_GOLD_PATH.is_file()
    assert len({it.id for it in gold}) == len(gold)
    # one JSON object per line, written with ensure_ascii=False
    raw = DEFAULT_GOLD_PATH.read_text(encoding="utf-8")
    assert "\\u" not in raw
    for line in raw.splitlines():
        if line.strip():
            assert isinstance(json.loads(line), dict)


def test_counts(gold):
    n = len(gold)
    assert n >= 120
    negatives = [it for it in gold if it.status in ("not_specified", "not_found")]
    assert len(negatives) / n >= 0.15
    assert any(it.status == "not_specified" for it in gold)
    assert any(it.status == "not_found" for it in gold)
    cats = {c: sum(it.category == c for it in gold) for c in CATEGORIES}
    assert cats["english"] >= 10
    assert cats["traditional"] >= 8
    for c in CATEGORIES:
        assert cats[c] >= 1, f"no item of category {c}"
    english = [it for it in gold if it.category == "english"]
    assert all(re.search(r"[A-Za-z]{3}", it.q) and not re.search(r"[\u4e00-\u9fff]", it.q) for it in english)
    trad = [it for it in gold if it.category == "traditional"]
    assert all(normalize_for_match(it.q) != it.q.lower().replace(" ", "") for it in trad), "not traditional"


def test_thallium_item(gold):
    items = [it for it in gold if it.q == THALLIUM_Q]
    assert len(items) == 1
    it = items[0]
    assert it.status == "not_specified"
    assert it.smoke
    assert {s.section for s in it.sources} >= {"19.", "附件1"}


def test_smoke_subset_spread(gold):
    smoke = smoke_items(gold)
    assert 35 <= len(smoke) <= 60
    assert {it.status for it in smoke} == {"answered", "not_specified", "not_found"}
    missing = set(CATEGORIES) - {it.category for it in smoke}
    assert not missing, f"categories without a smoke item: {missing}"


def test_required_coverage(gold):
    by_id = {it.id: it for it in gold}
    seven = by_id["wp-seven-projects"]
    assert seven.facts_any_k == len(seven.facts_any) == 7
    eight = by_id["wp-eight-campaigns"]
    assert len(eight.facts_any) == 8 and eight.facts_any_k == 6
    assert any(s.doc == "排污许可管理条例" and s.section == "第三条" for s in by_id["pw-supervisor"].sources)
    assert any(s.section == "第三十三条" for s in by_id["pw-penalty-no-permit"].sources)
    assert any(s.section == "第五十九条" for s in by_id["ep-daily-penalty"].sources)
    assert any(s.section == "第二条" for s in by_id["ep-def-environment"].sources)
    assert any(s.doc == "生态保护补偿条例" and s.section == "第二条" for s in by_id["eco-definition"].sources)
    for q in ("个人所得税起征点是多少?", "长沙市的工作要点", "长江保护法第九十条规定了什么?"):
        assert any(it.q == q and it.status == "not_found" for it in gold), q


# --------------------------------------------------------------------------------------------------
# Every source and fact checked against the raw documents


@needs_corpus
def test_corpus_has_the_twenty_documents():
    assert len(corpus()) == 20


@needs_corpus
def test_sources_occur_in_the_corpus(split_items):
    problems = []
    for it in split_items:
        for s in it.sources:
            try:
                name = find_doc(s.doc)
            except AssertionError as e:
                problems.append(f"{it.id}: {e}")
                continue
            needle = normalize_for_match(s.contains)
            if needle not in normalize_for_match(corpus()[name][2]):
                problems.append(f"{it.id}: contains {s.contains!r} not in {name}")
                continue
            passages = scoped_passages(name, s.section)
            if not any(needle in normalize_for_match(p) for p in passages):
                problems.append(f"{it.id}: contains {s.contains!r} not in section {s.section!r} of {name}")
    assert not problems, "\n".join(problems)


@needs_corpus
def test_answered_facts_occur_in_source_documents(split_items):
    problems = []
    for it in split_items:
        if it.status != "answered":
            continue
        doc_texts = [normalize_for_match(corpus()[find_doc(s.doc)][2]) for s in it.sources]
        passages = [
            normalize_for_match(p) for s in it.sources for p in scoped_passages(find_doc(s.doc), s.section)
        ]
        for fact in (*it.facts, *it.facts_any):
            f = normalize_for_match(fact)
            if not any(f in t for t in doc_texts):
                problems.append(f"{it.id}: fact {fact!r} not in any source document")
            elif not any(f in p for p in passages):
                problems.append(f"{it.id}: fact {fact!r} not in any source passage")
    assert not problems, "\n".join(problems)


@needs_corpus
def test_facts_match_the_source_passages(split_items):
    """A perfect extractive answer (the source passages themselves) satisfies every answered item."""
    for it in split_items:
        if it.status != "answered":
            continue
        text = "\n".join(p for s in it.sources for p in scoped_passages(find_doc(s.doc), s.section))
        ok, missing = facts_match(it, text)
        assert ok, f"{it.id}: {missing}"


@needs_corpus
def test_not_specified_subject_is_silent():
    """Spot checks that the asked-for detail really is absent from the whole corpus."""
    allnorm = "".join(normalize_for_match(t) for _, _, t in corpus().values())
    wp = normalize_for_match(corpus()[find_doc("衡阳市2021年生态环境保护工作要点")][2])
    assert "牵头" not in wp
    assert "二氧化硫" not in wp
    assert "2022" not in wp
    assert "长沙" not in allnorm and "起征点" not in allnorm
    yz_lines = corpus()[find_doc("长江保护法")][1]
    articles = [m.group(1) for line in yz_lines if (m := _ARTICLE_START.match(line))]
    assert articles[-1] == "第七十九条"
    assert "第九十条" not in articles and "施行" not in normalize_for_match("".join(yz_lines))
    tax = normalize_for_match(corpus()[find_doc("环境保护税法")][2])
    assert "元" not in tax.split("附表一")[1]


# --------------------------------------------------------------------------------------------------
# The frozen test split (eval/test.jsonl)

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _is_long(q: str) -> bool:
    """A long everyday question: 60–300 Chinese characters."""
    return 60 <= len(_CJK.findall(q)) and len(q) <= 300


def test_test_split_counts(test_split):
    items = test_split
    n = len(items)
    assert n >= 210
    assert sum(_is_long(it.q) for it in items) >= 75
    assert sum(it.category == "paraphrase" for it in items) >= 45
    not_specified = sum(it.status == "not_specified" for it in items)
    not_found = sum(it.status == "not_found" for it in items)
    assert not_specified + not_found >= 35
    assert not_specified >= 12 and not_found >= 12
    # long everyday questions include negatives, not only answerable ones
    assert any(_is_long(it.q) and it.status == "not_specified" for it in items)
    assert any(_is_long(it.q) and it.status == "not_found" for it in items)
    for c in CATEGORIES:
        assert any(it.category == c for it in items), f"no test item of category {c}"


def test_test_split_is_separate_from_gold(test_split, gold):
    assert all(it.id.startswith("t-") for it in test_split)
    assert not any(it.smoke for it in test_split), "the test split never feeds the smoke subset"
    assert not {it.id for it in test_split} & {it.id for it in gold}
    gold_questions = {normalize_for_match(it.q) for it in gold}
    copied = [it.id for it in test_split if normalize_for_match(it.q) in gold_questions]
    assert not copied, f"test items that copy a gold question: {copied}"


def test_test_split_languages(test_split):
    english = [it for it in test_split if it.category == "english"]
    assert english and all(re.search(r"[A-Za-z]{3}", it.q) and not _CJK.search(it.q) for it in english)
    trad = [it for it in test_split if it.category == "traditional"]
    assert trad and all(normalize_for_match(it.q) != it.q.lower().replace(" ", "") for it in trad)


# --------------------------------------------------------------------------------------------------
# The development set of long everyday questions (eval/dev_long.jsonl)


def _is_dev_long(q: str) -> bool:
    """A long everyday message of the dev set: 60–250 Chinese characters."""
    return 60 <= len(_CJK.findall(q)) <= 250


@pytest.fixture(scope="module")
def dev_long() -> list[GoldItem]:
    return load_gold(DEV_LONG_PATH)


def test_dev_long_counts(dev_long, gold):
    items = dev_long
    assert len(items) == 90
    assert all(it.id.startswith("dl-") for it in items)
    assert not any(it.smoke for it in items), "the dev set never feeds the smoke subset"
    assert sum(_is_dev_long(it.q) for it in items) >= 60
    assert sum(it.category == "paraphrase" for it in items) >= 15
    negatives = [it for it in items if it.status in ("not_specified", "not_found")]
    assert len(negatives) >= 15
    assert {it.status for it in negatives} == {"not_specified", "not_found"}
    # long everyday messages include negatives, not only answerable ones
    assert any(_is_dev_long(it.q) and it.status == "not_specified" for it in items)
    assert any(_is_dev_long(it.q) and it.status == "not_found" for it in items)
    gold_questions = {normalize_for_match(it.q) for it in gold}
    copied = [it.id for it in items if normalize_for_match(it.q) in gold_questions]
    assert not copied, f"dev_long items that copy a gold question: {copied}"
    assert not {it.id for it in items} & {it.id for it in gold}


@needs_corpus
def test_dev_long_paraphrase_words_absent():
    """Each paraphrase item names its everyday words in notes as “a/b/c”; none of them occurs in the corpus."""
    allnorm = "".join(normalize_for_match(t) for _, _, t in corpus().values())
    problems = []
    for it in load_gold(DEV_LONG_PATH):
        if it.category != "paraphrase":
            continue
        m = re.search(r"“([^”]+)”", it.notes)
        if not m:
            problems.append(f"{it.id}: notes name no everyday words")
            continue
        words = m.group(1).split("/")
        problems += [f"{it.id}: {w!r} occurs in the corpus" for w in words if normalize_for_match(w) in allnorm]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Matching helpers


def test_normalize_for_match():
    assert normalize_for_match("ＰＭ２．５ 年均\u200b濃度　39ug/m3") == "pm2.5年均浓度39ug/m3"
    assert normalize_for_match("（一）誰牽頭鉈污染") == "(一)谁牵头铊污染"
    assert normalize_for_match("") == ""


def _item(**kw) -> GoldItem:
    base = dict(id="x", q="q", status="answered", category="figure", facts=(), sources=())
    base.update(kw)
    return GoldItem(**base)


def test_facts_match():
    it = _item(facts=("20万元", "100万元"))
    assert facts_match(it, "处20萬元以上100万元以下的罚款") == (True, [])
    assert facts_match(it, "处20万元以上的罚款") == (False, ["100万元"])
    lst = _item(facts_any=("甲", "乙", "丙"), facts_any_k=2)
    assert facts_match(lst, "甲和丙")[0]
    ok, missing = facts_match(lst, "只有甲")
    assert not ok and "any:乙" in missing


def test_source_matches():
    src = GoldSource("排污许可管理条例", "第三十三条", "未取得排污许可证排放污染物")
    title = "排污许可管理条例"
    section = "排污许可管理条例 › 第五章 法律责任 › 第三十三条"
    assert source_matches(src, title, section, "（一）未取得排污许可证排放污染物；")
    assert not source_matches(src, title, "排污许可管理条例 › 第三十四条", "未取得排污许可证排放污染物")
    assert not source_matches(src, "中华人民共和国环境保护法", section, "未取得排污许可证排放污染物")
    any_section = GoldSource("工作要点", "", "发布时间:2021-07-26")
    assert source_matches(any_section, "衡阳市2021年生态环境保护工作要点", "衡阳市…", "发布时间：2021-07-26 12:02")


# --------------------------------------------------------------------------------------------------
# Broken items fail loudly, naming the line


GOOD = {
    "id": "ok-1",
    "q": "PM2.5年均浓度目标是多少?",
    "status": "answered",
    "category": "figure",
    "facts": ["39"],
    "facts_any": [],
    "facts_any_k": 0,
    "sources": [{"doc": "衡阳市2021年生态环境保护工作要点", "section": "主要目标", "contains": "39ug/m3"}],
    "smoke": True,
    "notes": "",
}


def _write(tmp_path: Path, objs: list) -> Path:
    p = tmp_path / "gold.jsonl"
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _broken(**changes) -> dict:
    d = json.loads(json.dumps(GOOD))
    d["id"] = "bad-1"
    for k, v in changes.items():
        if v is _DELETE:
            d.pop(k)
        else:
            d[k] = v
    return d


_DELETE = object()


def test_good_temp_file_loads(tmp_path):
    items = load_gold(_write(tmp_path, [GOOD, "", "# a comment", {**GOOD, "id": "ok-2"}]))
    assert [it.id for it in items] == ["ok-1", "ok-2"]
    assert items[1].line == 4
    assert items[0].sources[0].contains == "39ug/m3"
    assert items[0].to_dict() == GOOD


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (_broken(extra_field=1), "unknown field"),
        (_broken(facts=_DELETE), "missing field"),
        (_broken(status="answerd"), "bad status"),
        (_broken(category="numbers"), "bad category"),
        (_broken(facts_any=["a", "b"], facts_any_k=3), "facts_any_k = 3 > len(facts_any) = 2"),
        (_broken(status="not_found", category="not_found", facts=[]), "not_found item must have no sources"),
        (_broken(facts=[]), "needs facts"),
        (_broken(sources=[]), "needs at least one source"),
        (_broken(status="not_specified", facts=[], sources=[]), "needs the related passages"),
        (_broken(facts="39"), "list of strings"),
        (_broken(sources=[{"doc": "x", "section": "y"}]), "missing field(s) contains"),
        (_broken(smoke="yes"), "'smoke'"),
    ],
)
def test_broken_item_raises_with_line_and_id(tmp_path, bad, problem):
    path = _write(tmp_path, [GOOD, bad])
    with pytest.raises(GoldSetError) as exc:
        load_gold(path)
    msg = str(exc.value)
    assert "line 2" in msg
    assert "'bad-1'" in msg
    assert problem in msg
    assert isinstance(exc.value, PolicyAssistantError) and exc.value.fix


def test_duplicate_id(tmp_path):
    path = _write(tmp_path, [GOOD, {**GOOD, "q": "another"}])
    with pytest.raises(GoldSetError, match=r"line 2 .*duplicate id \(first used on line 1\)"):
        load_gold(path)


def test_invalid_json_and_missing_file(tmp_path):
    path = _write(tmp_path, [GOOD, {**GOOD, "id": "ok-2"}, '{"id": "x", '])
    with pytest.raises(GoldSetError, match="line 3"):
        load_gold(path)
    with pytest.raises(GoldSetError, match="not found"):
        load_gold(tmp_path / "nope.jsonl")


def test_smoke_parameters_fail_loudly_when_the_gold_set_cannot_be_loaded(monkeypatch):
    """tests/test_answer_corpus.py must not turn a broken gold file into zero smoke tests."""
    import test_answer_corpus

    from policy_assistant.eval import gold

    def broken(*args, **kwargs):
        raise gold.GoldSetError("eval/gold.jsonl line 3: not JSON", "fix the line")

    monkeypatch.setattr(gold, "load_gold", broken)
    with pytest.raises(gold.GoldSetError):
        test_answer_corpus._gold_smoke()
    monkeypatch.setattr(gold, "load_gold", lambda *args, **kwargs: [])
    with pytest.raises(RuntimeError, match="no smoke items"):
        test_answer_corpus._gold_smoke()
