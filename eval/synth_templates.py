"""Mechanical question templates for the synthetic training data.

Each extractor reads law chunks and yields :class:`Candidate` records: the answer-bearing sentence
exactly as it stands in the chunk (split with the engine's own sentence splitter), the short verbatim
facts a correct answer contains, the subject phrase the question is about and the slots the surface
forms fill in. :func:`surface_forms` turns a candidate into several questions (formal, plain, first
person, with and without the law's name). Only general legal Chinese is used here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.text import split_sentences

ANSWER_TYPES = ("penalty", "who", "when", "number", "definition", "yesno", "list", "open")

CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_NUM = rf"(?:\d+(?:\.\d+)?|[{CN_NUM}]+)"
_LABEL = re.compile(rf"^\s*(?:第[{CN_NUM}]+条\s*|[（(][{CN_NUM}]+[）)]\s*|\d+[.．、]\s*)")
ORGAN_END = r"(?:部门|人民政府|机关|机构|委员会|管理局|局|署|总局|银行|办公室)"
_ORGAN = rf"[^，；。：、]{{2,36}}?{ORGAN_END}"
_AMOUNT = rf"{_NUM}(?:万)?(?:元|倍)(?:以上{_NUM}(?:万)?(?:元|倍)以下|以下)?"
_PENALTY = re.compile(
    rf"^(?P<cond>.+?)的，(?:由(?P<organ>{_ORGAN})(?=依照职权|按照职责|依据职权|责令|处|没收|给予|吊销|予以|依法|对))?"
    rf"[^；。]*?处(?:以)?(?:[^，；。]{{0,12}}?)(?P<amount>{_AMOUNT})(?:的)?罚款")
_WHO_BY = re.compile(rf"由(?P<organ>{_ORGAN})(?:统一)?(?:负责|主管|组织实施)(?P<task>[^，；。：]{{4,30}})")
_WHO_SUBJ = re.compile(
    rf"^(?P<organ>{_ORGAN})(?:统一)?(?:主管|负责|监督管理|统一管理|统一监督管理)(?P<task>[^，；。：]{{4,30}}?(?:工作|事务|事项|管理))")
_WHEN = re.compile(r"本(?:法|条例|规定|办法|细则)自(?P<date>(?:\d{4}年\d{1,2}月\d{1,2}日|公布之日|发布之日))起施行")
_DEFINITION = re.compile(
    r"^(?:本(?:法|条例|规定|办法|细则|章)(?:中)?)?(?:所称)?(?P<term>[^，；。：、“”]{2,16}?)[，,]?(?:是)?指(?P<defn>[^。；]{4,})")
NUMBER_UNIT = re.compile(
    rf"(?<![第\d{CN_NUM}])(?P<num>{_NUM})(?P<unit>个工作日|个月|日|天|年|小时|周岁|公顷|亩|平方米|公里|米|次|人|名|%)(?![度级])")
_DATE = re.compile(r"(?:\d{4}|[〇零一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月(?:[\d一二三四五六七八九十]{1,3}日)?")
# A clause that starts like this leans on the clause before it for its subject.
_DEPENDENT_CLAUSE = re.compile(r"^(?:自|在|应当|未|不得|可以|并|最长|一般|满|为|期限|每|不超过|超过|不少于|少于|其中|但)")
_YESNO = re.compile(r"^(?P<subj>[^，；。：“”]{0,16}?)(?P<word>不得|应当|可以|禁止|必须)(?P<act>[^，；。：“”]{4,30})[。；]?$")
_LIST_HEAD = re.compile(r"(?:下列|以下)(?P<noun>[^，；。：]{0,4}?(?:内容|事项|条件|情形|材料|职责|措施|权利|义务|文件|资料|行为|规定|原则|要求|信息))")
_KEY_SYSTEM = re.compile(
    r"(?:国家|县级以上[^，；。]{0,12}?)(?:建立健全|建立和完善|建立、健全|建立|实行|推行|完善|健全)(?P<kp>[^，；。、]{2,14}?(?:制度|机制|体系|名录|规划))")
GENERIC_CHAPTERS = {"总则", "附则", "法律责任", "监督管理", "监督检查", "保障措施", "奖励与处罚", "罚则", "其他规定"}
_CHAPTER = re.compile(rf"^第[{CN_NUM}]+章\s*(?P<title>\S.*)$")
_BAD_SUBJECT = re.compile(rf"^(?:拒不|逾期|情节|造成|和|或者|及|并|但|的)|前款|前两款|本条|本款|本法|本条例|第[{CN_NUM}]+条|第[{CN_NUM}]+项|下列|上述|^其|^该")
_COND_PREFIX = re.compile(r"^(?:违反本(?:法|条例|规定|办法|细则)(?:第[^，；。]{1,24}?)?(?:的)?规定，|违反[^，；。]{2,30}?规定，)")
_UNDER_RULE = re.compile(r"(?:依照|按照|依据)本(?:法|条例|规定|办法)(?:的)?规定")


@dataclass
class Candidate:
    """One question source: a sentence that states one kind of detail about one subject."""

    answer_type: str
    chunk: Chunk
    sentence: str  # verbatim in chunk.text
    facts: list[str]
    subject: str  # the asked phrase as it stands in the question (key phrases come from it)
    slots: dict[str, str] = field(default_factory=dict)

    @property
    def law(self) -> str:
        return self.chunk.doc_title.removeprefix("中华人民共和国")

    @property
    def unit_key(self) -> tuple[str, tuple[str, ...]]:
        """The citable unit (article) the candidate comes from: all its chunk parts share it."""
        return self.chunk.doc_id, self.chunk.path


def strip_label(text: str) -> str:
    """Text without a leading ``第X条`` or ``（一）`` label."""
    return _LABEL.sub("", text).strip()


def clean_subject(text: str) -> str:
    """A question subject from a clause: label and trailing punctuation removed."""
    return strip_label(text).rstrip("，,：:；;。、 的")


def short_condition(cond: str) -> str | None:
    """The core act of a penalty condition: ``违反本法规定，未依照本法规定办理登记，或者…`` → ``未办理登记``.
    None when what is left is too short, too long or refers to other articles."""
    cond = clean_subject(cond)
    cond = _COND_PREFIX.sub("", cond)
    cond = _UNDER_RULE.sub("", cond).replace("未按照规定", "未").replace("未依照规定", "未")
    cond = cond.split("，或者")[0].split("；")[0].rstrip("，的")
    if len(cond) > 40 and "，" in cond:
        cond = cond.split("，")[0]
    if not 4 <= len(cond) <= 40 or _BAD_SUBJECT.search(cond) or "之一" in cond or "构成犯罪" in cond:
        return None
    return cond


def _sentences(chunk: Chunk) -> list[str]:
    return [s for s in split_sentences(chunk.text) if s in chunk.text]


def penalty_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Fines: ``<condition>的，由<organ>…处<amount>罚款`` (a list head's condition comes from its items)."""
    sents = _sentences(chunk)
    items = [s for s in sents if _LABEL.match(s) and s.startswith(("（", "("))]
    for i, s in enumerate(sents):
        m = _PENALTY.search(strip_label(s))
        # without a named organ only an article's opening sentence has a condition of its own
        if not m or not (m.group("organ") or i == 0 or s.startswith("违反")):
            continue
        conds = [m.group("cond")]
        if "下列" in m.group("cond") and "之一" in m.group("cond"):
            conds = items
        for raw in conds:
            cond = short_condition(raw)
            if cond:
                yield Candidate("penalty", chunk, s, [m.group("amount")], cond,
                                {"cond": cond, "organ": m.group("organ") or "", "amount": m.group("amount")})


def who_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Responsible organs: ``由X负责Y`` / ``X主管Y``."""
    for s in _sentences(chunk):
        body = strip_label(s)
        for m in (_WHO_SUBJ.search(body), *_WHO_BY.finditer(body)):
            if not m:
                continue
            task, organ = clean_subject(m.group("task")), m.group("organ")
            if len(task) >= 4 and not _BAD_SUBJECT.search(task) and not _BAD_SUBJECT.search(organ):
                yield Candidate("who", chunk, s, [organ], task, {"task": task, "organ": organ})


def when_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Entry into force: ``本法自X起施行``."""
    for s in _sentences(chunk):
        m = _WHEN.search(s)
        if m:
            law = chunk.doc_title.removeprefix("中华人民共和国")
            yield Candidate("when", chunk, s, [m.group("date")], law, {"date": m.group("date")})


def definition_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Definitions: ``本法所称X，是指Y`` and the items of ``下列用语的含义``."""
    for s in _sentences(chunk):
        body = strip_label(s)
        if "指" not in body or ("所称" not in body and "，是指" not in body and "含义" not in chunk.text):
            continue
        m = _DEFINITION.match(body)
        if not m:
            continue
        term = m.group("term").split("所称")[-1].strip()
        if _BAD_SUBJECT.search(term) or len(term) < 2 or term.endswith(("是", "所称")):
            continue
        first = re.split(r"[，,：:；;。]", m.group("defn"))[0]
        fact = first if len(first) <= 24 else first[:16]
        if len(fact) >= 4:
            yield Candidate("definition", chunk, s, [fact], term, {"term": term})


def _ask_number(clause: str, m: re.Match) -> str:
    num = m.group("num")
    ask = "几" if (not num[0].isdigit() and len(num) <= 2 and m.group("unit") not in ("%", "人", "名")) else "多少"
    return clause[: m.start()] + ask + clause[m.end("num"):]


def number_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Figures with a unit (days, months, years, hectares, %): the clause with the number asked for
    (with the clause before it when short, and the one after it when the figure ends the clause)."""
    for s in _sentences(chunk):
        if "罚款" in s or "拘留" in s or "施行" in s:  # fines are the penalty template's, dates the when's
            continue
        clauses = re.findall(r"[^，；。：]+[，；。：]?", strip_label(s))
        for i, clause in enumerate(clauses):
            dates = [d.span() for d in _DATE.finditer(clause)]
            for m in NUMBER_UNIT.finditer(clause):
                if any(a <= m.start() < b for a, b in dates) or m.group("num") in ("一", "1") and m.group("unit") in ("次", "人", "名"):
                    continue
                lean = len(clause) < 14 or _DEPENDENT_CLAUSE.match(clause)
                before = clauses[i - 1] if lean and i > 0 else ""
                asked = _ask_number(clause, m)
                tail = clause[m.end():].rstrip("，；。：")
                if tail in ("", "内", "以内", "前", "后", "以上", "以下") and i + 1 < len(clauses):
                    asked += clauses[i + 1]
                q_body = clean_subject(before + asked)
                fact = m.group("num") + m.group("unit")
                if 10 <= len(q_body) <= 60 and not _BAD_SUBJECT.search(q_body) and fact in s and fact not in q_body:
                    yield Candidate("number", chunk, s, [fact], q_body, {"clause": q_body})
                break  # one figure per clause


def yesno_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Single-clause duties and permissions: ``<subject>不得/应当/可以/禁止<act>``."""
    for s in _sentences(chunk):
        m = _YESNO.match(strip_label(s))
        # list items and conditions (``…的；``) are no statements of their own
        if not m or s.startswith(("（", "(")) or s.rstrip("。；").endswith("的") or m.group("subj").startswith("依法"):
            continue
        subj, word, act = m.group("subj").strip(), m.group("word"), m.group("act").rstrip("。；")
        if (word == "禁止") != (subj == "") or subj.endswith(("并", "也", "还", "均")) or _BAD_SUBJECT.search(subj + act) or act.startswith(("由", "依照", "按照")):
            continue
        yield Candidate("yesno", chunk, s, [word], f"{subj}，{act}" if subj else act,
                        {"subj": subj, "word": word, "act": act})


def list_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Enumerations: a head line ending in ``：`` with 下列/以下, followed by ``（一）（二）…`` lines."""
    lines = [ln.strip() for ln in chunk.text.split("\n") if ln.strip()]
    for i, line in enumerate(lines):
        head = strip_label(line)
        m = _LIST_HEAD.search(head)
        if not head.endswith(("：", ":")) or not m or head.startswith("有下列") or "之一" in head:
            continue
        items = []
        for ln in lines[i + 1:]:
            if not ln.startswith(("（", "(")) or not _LABEL.match(ln):
                break
            items.append(ln)
        if len(items) < 2:
            continue
        question = head[: m.start()] + "哪些" + m.group("noun").lstrip("的") + head[m.end():].rstrip("：:")
        if len(question) > 40:  # a long head: keep the clause that asks
            question = next((c for c in reversed(question.split("，")) if "哪些" in c), question)
        facts = []
        for it in items[:3]:
            phrase = re.split(r"[，,：:；;。]", strip_label(it))[0]
            phrase = phrase if len(phrase) <= 14 else phrase[:12]
            if len(phrase) >= 2 and phrase not in facts:
                facts.append(phrase)
        start = chunk.text.find(line)
        last = items[min(len(items), 3) - 1]
        end = chunk.text.find(last, start) + len(last)
        if len(facts) >= 2 and start >= 0 and 8 <= len(question) <= 50 and not _BAD_SUBJECT.search(question):
            yield Candidate("list", chunk, chunk.text[start:end], facts, question, {"head": question})


def open_candidates(chunk: Chunk) -> Iterator[Candidate]:
    """Key phrases: a chapter title the article repeats, or a system the state sets up (``国家建立X制度``)."""
    phrases = [m.group("kp").removeprefix("对") for m in _KEY_SYSTEM.finditer(chunk.text)]
    chapter = _CHAPTER.match(chunk.path[0]) if chunk.path else None
    if chapter and chapter.group("title") not in GENERIC_CHAPTERS and len(chapter.group("title")) >= 4:
        phrases.append(chapter.group("title"))
    for kp in dict.fromkeys(phrases):
        if _BAD_SUBJECT.search(kp):
            continue
        for s in _sentences(chunk):
            clause = next((c for c in re.findall(r"[^，；。：]+", s) if kp in c), "")
            if clause:
                fact = strip_label(clause)
                if len(fact) > 30:
                    break
                yield Candidate("open", chunk, s, [fact], kp, {"kp": kp})
                break


EXTRACTORS = {
    "penalty": penalty_candidates,
    "who": who_candidates,
    "when": when_candidates,
    "number": number_candidates,
    "definition": definition_candidates,
    "yesno": yesno_candidates,
    "list": list_candidates,
    "open": open_candidates,
}


def extract_candidates(chunks: list[Chunk]) -> dict[str, list[Candidate]]:
    """Every candidate of every answer type in ``chunks`` (meta chunks skipped), in chunk order."""
    out: dict[str, list[Candidate]] = {t: [] for t in ANSWER_TYPES}
    for chunk in chunks:
        if chunk.kind == "meta":
            continue
        for kind, extract in EXTRACTORS.items():
            out[kind].extend(c for c in extract(chunk) if all(f in c.sentence for f in c.facts))
    return out


# Surface forms: (form name, pattern). {p} is a short first-person opener, {law} the law's short name.
OPENERS = ("请问", "我想了解一下，", "想咨询一下，", "麻烦问一下，")
FORMS: dict[str, tuple[tuple[str, str], ...]] = {
    "penalty": (
        ("formal", "{cond}的，会受到什么处罚？"),
        ("amount", "{cond}的，罚多少钱？"),
        ("liability", "如果{cond}，要承担什么法律责任？"),
        ("law", "根据《{law}》，{cond}的，怎么处罚？"),
        ("law_amount", "{law}对{cond}的罚款是多少？"),
        ("first_report", "我们公司被人举报{cond}，会被罚多少钱？"),
        ("first", "{p}{cond}的话，会被怎么处罚？"),
    ),
    "who": (
        ("formal", "{task}由哪个部门负责？"),
        ("plain", "{task}归谁管？"),
        ("which", "哪个部门主管{task}？"),
        ("law", "根据《{law}》，{task}由哪个部门负责？"),
        ("first", "{p}{task}是哪个部门在管？"),
    ),
    "when": (
        ("formal", "《{law}》什么时候施行？"),
        ("plain", "{law}从哪天开始实施？"),
        ("date", "{law}的施行日期是哪天？"),
        ("first", "{p}{law}是什么时候开始生效的？"),
    ),
    "number": (
        ("formal", "{clause}？"),
        ("law", "根据《{law}》，{clause}？"),
        ("first", "{p}{clause}？"),
    ),
    "definition": (
        ("formal", "{term}是指什么？"),
        ("plain", "什么是{term}？"),
        ("law", "《{law}》所称的{term}是什么意思？"),
        ("first", "{p}法律上说的{term}具体指什么？"),
    ),
    "yesno": (
        ("formal", "{subj}可以{act}吗？"),
        ("law", "按照《{law}》，{subj}可以{act}吗？"),
        ("first", "{p}{subj}能不能{act}？"),
    ),
    "yesno_duty": (
        ("formal", "{subj}是否必须{act}？"),
        ("plain", "{subj}需要{act}吗？"),
        ("law", "按照《{law}》，{subj}是否应当{act}？"),
        ("first", "{p}{subj}一定要{act}吗？"),
    ),
    "list": (
        ("formal", "{head}？"),
        ("law", "根据《{law}》，{head}？"),
        ("first", "{p}{head}？"),
    ),
    "open": (
        ("formal", "{law}对{kp}有什么规定？"),
        ("plain", "关于{kp}有哪些规定？"),
        ("law", "《{law}》中关于{kp}是怎么规定的？"),
        ("first", "{p}{kp}方面有什么要求？"),
    ),
}


def surface_forms(c: Candidate) -> list[tuple[str, str, bool]]:
    """``(template name, pattern, names the law)`` for every surface form of ``c`` (unfilled)."""
    kind = c.answer_type
    if kind == "yesno" and c.slots["word"] in ("应当", "必须"):
        kind = "yesno_duty"
    return [(f"{c.answer_type}.{name}", pattern, "{law}" in pattern) for name, pattern in FORMS[kind]]


def fill(c: Candidate, pattern: str, opener: str) -> str:
    """The question text of one surface form."""
    return pattern.format(p=opener, law=c.law, **c.slots)
