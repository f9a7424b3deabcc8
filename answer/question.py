"""Question analysis: validation, type (figure/list/who/when/penalty/definition/yesno/open),
subject terms, and scope (year, place)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import jieba

from policy_assistant.answer import thresholds as T
from policy_assistant.answer.glossary import english_articles, english_terms
from policy_assistant.answer.sentences import content_chars
from policy_assistant.core.errors import QuestionError
from policy_assistant.corpus.text import check_question_text, is_english, normalize_query

QTYPES = ("figure", "list", "who", "when", "penalty", "definition", "yesno", "open")
QTYPE_LABELS_ZH = {
    "figure": "数值/目标", "list": "清单", "who": "牵头/负责单位", "when": "时间",
    "penalty": "处罚", "definition": "定义", "yesno": "是否", "open": "一般",
}

# Cue patterns, checked in this order (first match wins).
_ZH_CUES: list[tuple[str, re.Pattern]] = [
    ("penalty", re.compile(r"罚款|罚金|处罚|怎么罚|如何罚|罚多少|法律责任|拘留|有期徒刑|处以")),
    ("who", re.compile(r"谁|哪个部门|哪些部门|哪个单位|哪些单位|哪个机构|哪一级|什么部门|什么单位|什么机关|什么机构|什么组织|"
                       r"牵头|负责单位|负责部门|由.{0,6}负责|主管部门是")),
    ("when", re.compile(r"什么时候|何时|哪天|哪一天|哪年|几月|什么时间|日期|施行时间|生效|起施行|哪一年|哪[一二两三四五六七八九几]年")),
    ("list", re.compile(r"哪些|有哪几|哪几[个项类条种大级]|哪[两三四五六七八九十][个项类条种大级部]|包括什么|包含什么|包括哪|都有什么|"
                        r"有什么|列出|列举|分别是|什么样的|什么条件|哪部|哪一部")),
    ("figure", re.compile(r"多少|几[天个项次年%]|百分之几|目标|比例|比率|比重|[^功]率是|浓度|控制在|达到多|数值|指标|多大|多高|几成|"
                          r"多深|多远|多长|多宽|多久")),
    ("definition", re.compile(r"指什么|什么是|何为|何谓|含义|定义|是指|什么意思|指的是|所称.{1,12}是什么")),
    ("yesno", re.compile(r"是否|能否|可否|能不能|可不可以|可以.*吗|需要.*吗|必须.*吗|应当.*吗|有没有|是不是|吗[?？]?$")),
]
_EN_CUES: list[tuple[str, re.Pattern]] = [
    ("penalty", re.compile(r"\b(fine|fines|fined|penalt\w*|punish\w*|sanction\w*)\b")),
    ("who", re.compile(r"\b(who|which (department|body|agency|authority|unit|organi[sz]ation)|responsible|in charge|lead(s|ing)?)\b")),
    ("when", re.compile(r"\b(when|what date|which date|which day|which year|effective|take effect|come into force)\b")),
    ("list", re.compile(r"\b(which|list|what are|name the|enumerate)\b")),
    ("figure", re.compile(r"\b(how (much|many|high|long)|target|goal|percentage|rate|ratio|level|figure|limit)\b")),
    ("definition", re.compile(r"\b(what is|what does .* mean|define|definition|meaning)\b")),
    ("yesno", re.compile(r"^(is|are|does|do|can|must|should|may|shall)\b")),
]

# Words that say what kind of answer is wanted; they are not part of the subject.
CUE_WORDS = set(
    "谁 哪个 哪些 哪几 什么 多少 几 是否 能否 可否 是不是 有没有 吗 呢 吧 啊 请问 请 问 告诉 我 我们 你 "
    "怎么 如何 怎样 为什么 是 有 哪 几个 几项 包括 包含 分别 列出 列举 都 规定 要求 文件 相关 关于 有关 "
    "方面 情况 内容 具体 一下 介绍 说明 的 了 和 与 及 或 在 对 为 由 应当 应该 需要 可以 能 会 要 被 把 "
    "将 从 向 于 以 之 其 该 这 那 这个 那个 中 里 上 下 本 按照 根据 依据 主要 一些 哪儿 哪里 所 呢? 吗? "
    "何时 什么时候 时候 哪天 哪年 哪一年 多大 多高 是多少 多少钱 有哪些 哪些方面 几天 以内 多久 咋办 "
    "怎么办 啥 咱们 今年 我 得 发现 现行 属于".split()
)
# Cue words removed only for their own question type (elsewhere they can be the subject: 主要目标有哪些).
TYPE_CUES = {
    "figure": set("目标 比例 比率 数值 指标 达到 控制 控制在 百分之几 具体 微克 毫克 立方米 每立方米 每 以下 以上 "
                  "以内 左右 百分点 几天 几个 几年 多久 多长 多长时间 亿元 万元 元 吨 天 个 年 分别 要 得 至少 最多 最少 "
                  "不少于 不超过 日内 天内 年内 之内 内 工作日 多深 多远 多宽".split()),
    "who": set("牵头 负责 部门 单位 机构 主管 主管部门 负责部门 负责单位 机关".split()),
    "when": set("施行 生效 日期 时间 起 开始 实施".split()),
    "penalty": set("罚款 处罚 罚 法律责任 处以 怎么罚 如何罚 罚金 违反 违法 规定".split()),
    "definition": set("含义 定义 意思 指 是指 指的是 何为 何谓 所称 概念 时段".split()),
    "list": set("哪几 包括 包含 清单 名单 分为 分成 划分 哪部 样 条件 什么样".split()),
    # yes/no questions wrap the rule in 还要…吗 / 以后还…吗 / 能不能作为…的对象
    "yesno": set("只 只需 只需要 仅 还要 以后 之后 作为 对象 能不能".split()),
}
# Single characters that never carry the subject.
_STOP_CHARS = set("的了和与及或在对为由把被从向于以之其该这那哪谁吗呢吧啊么个几多少是有要会能可将就都也还又而并等却没做")
_EN_STOP = set(
    "the a an of in on at to for by with from and or is are was were be been what which who whom when how "
    "much many does do did can could should must may shall will would please tell me about there their its "
    "this that these those it as according under law document documents work points target goal rate".split()
)

_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年?")
# Places that are not 衡阳 (prefecture cities of Hunan, provincial capitals and large cities).
OTHER_PLACES = (
    "长沙 株洲 湘潭 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西 北京 上海 天津 重庆 广州 深圳 "
    "武汉 南京 杭州 成都 西安 郑州 济南 沈阳 长春 哈尔滨 石家庄 太原 合肥 福州 南昌 南宁 昆明 贵阳 "
    "兰州 西宁 银川 乌鲁木齐 拉萨 呼和浩特 海口 苏州 青岛 厦门 宁波 大连 无锡 佛山 东莞"
).split()
HENGYANG_PLACES = ("衡阳", "常宁", "耒阳", "衡山", "衡东", "衡南", "祁东", "南岳", "珠晖", "雁峰", "石鼓", "蒸湘")
_EN_PLACES = {"changsha": "长沙", "beijing": "北京", "shanghai": "上海", "wuhan": "武汉", "guangzhou": "广州",
              "shenzhen": "深圳", "zhuzhou": "株洲", "xiangtan": "湘潭", "hengyang": "衡阳"}
_TAGS = re.compile(r"<[^>]{0,200}>")


@dataclass
class Question:
    """A validated, analysed question."""

    raw: str
    text: str                       # normalised text used for retrieval and matching
    qtype: str
    terms: list[str]                # subject terms (Chinese; glossary terms for English questions)
    english: bool = False
    years: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)   # places named that are not 衡阳 or its counties
    notes: list[str] = field(default_factory=list)
    wants_number: bool = False      # 多少 / how much: a qualitative statement does not answer it
    articles: list[str] = field(default_factory=list)  # 第九十条 (also from "Article 90")
    heads: list[str] = field(default_factory=list)     # what a list question asks for: 哪些补偿方式 → 补偿方式

    @property
    def retrieval_query(self) -> str:
        if self.english and self.terms:
            return f"{self.text} {' '.join(self.terms)}"
        return self.text


def clean_question(raw: str) -> tuple[str, list[str]]:
    """Validate and normalise; raise QuestionError with a polite message for unusable input."""
    notes: list[str] = []
    if raw is None or not str(raw).strip():
        raise QuestionError("问题是空的 (the question is empty)", "请输入一个关于文件内容的问题,例如“PM2.5年均浓度目标是多少?”")
    text = str(raw)
    check_question_text(text)
    if len(text) > T.MAX_QUESTION_CHARS:
        notes.append(f"问题过长({len(text)}字),只使用了前{T.MAX_QUESTION_CHARS}字")
        text = text[: T.MAX_QUESTION_CHARS]
    text = _TAGS.sub(" ", html.unescape(text))
    text = normalize_query(text)
    if content_chars(text) < T.MIN_CONTENT_CHARS:
        raise QuestionError(
            "问题里没有可以检索的文字 (no words to search for)",
            "请用中文或英文写出问题,例如“谁牵头铊污染专项治理攻坚行动?”",
        )
    return text, notes


def classify(text: str, english: bool) -> str:
    cues = _EN_CUES if english else _ZH_CUES
    probe = text.lower() if english else text
    for qtype, pat in cues:
        if pat.search(probe):
            if qtype == "list" and not english and re.search(r"哪些(部门|单位|机构|机关)", probe):
                return "who"
            if qtype == "list" and not english and _WANTS_NUMBER.search(probe) and not _LIST_STRONG.search(probe):
                return "figure"  # 期限分别是多少天: numbers, not a list
            return qtype
    return "open"


_WANTS_NUMBER = re.compile(r"多少|几[天个项次年日%]|百分之几|多深|多远|多长|多久|how (much|many)|what percentage")
_LIST_STRONG = re.compile(r"哪些|哪几|哪[两三四五六七八九十][个项类条种大级部]|包括哪|什么样")
# a year after 比/较/相比/同比 is a baseline of comparison (比2020年提高), not the question's scope
_BASELINE_YEAR = re.compile(r"(?:比|较|相比|同比|与|和)\s*((?:19|20)\d{2})\s*年")


# Interrogative phrases removed before segmentation so they do not glue to content words (法从, 哪一天).
_Q_PHRASES = re.compile(
    r"什么时候|什么时间|哪一天|哪一年|哪天|哪年|何时|自何时|从何时|是否|能否|可否|能不能|可不可以|是不是|有没有|要不要|"
    r"(?:多少个?|几个?)(?:工作日|日|天|月份?|年|小时)(?:内|以内|之内)?|多长时间|多深|多远|多宽|多久|"
    r"多少钱|是多少|多少|几个|几项|几天|几年|几次|哪些|哪几[个项类条种大级部]?|哪[两三四五六七八九十][个项类条种大级部]|哪部|哪个|哪一级|"
    r"什么样的?|什么|怎么样|怎么办|咋办|怎么|如何|为什么|"
    r"几月份?|请问|谁|吗|呢|吧|从(?=什么|何时|哪|几)|开始|起施行|分别|所称"
)


_COUNTER = re.compile(r"^[一二三四五六七八九十两几\d]+[个类项级种条部家次天年]$")


def subject_terms(text: str, qtype: str = "open") -> list[str]:
    """Content words of a Chinese question, without cue words, years and places."""
    t = _Q_PHRASES.sub(" ", _YEAR_RE.sub(" ", text))
    t = re.sub(r"第[一二三四五六七八九十百零\d]+条", lambda m: f" {m.group(0)} ", t)
    terms: list[str] = []
    for w in jieba.cut(t):
        w = w.strip()
        if not w or w in CUE_WORDS or w in TYPE_CUES.get(qtype, ()):
            continue
        if not re.search(r"[\w\u4e00-\u9fff]", w):
            continue
        if len(w) == 1 and (w in _STOP_CHARS or not ("\u4e00" <= w <= "\u9fff")):
            continue
        if len(w) == 2 and w.endswith("是"):  # 法是 (…法是哪天), 还是, 就是: glue, not subject
            continue
        if _COUNTER.match(w):  # 四类, 三个, 哪几级: how many, not what about
            continue
        if any(p in w for p in OTHER_PLACES) or w in ("衡阳", "衡阳市"):
            continue
        if w not in terms:
            terms.append(w)
    return terms


_HEAD_AFTER = re.compile(r"(?:哪些|哪几[个项类条种大级部]?|哪[两三四五六七八九十][个项类条种大级部]|什么样的?)(?P<x>[^?？,，。]{1,16})")
_HEAD_BEFORE = re.compile(r"(?P<x>[\u4e00-\u9fff]{2,12}?)(?:都|还|可以|可|主要|具体)?(?:包括|包含|有|分为|分成)(?:哪些|哪几|什么)")
_HEAD_NAME = re.compile(r"哪一?部.*?(?P<x>条例|法律|法规|办法|规定|方案|规划|文件|法)[?？]?$")
_HEAD_STOP = re.compile(r"可以|必须|应当|需要|要|的|是|都|在|由|对|向|被|和|与|及|或者?|以及|、")


def list_heads(text: str) -> list[tuple[str, str]]:
    """What a list question asks for, as (text, side): 哪些补偿方式 → ("补偿方式", "prefix") — the corpus
    phrase is a prefix of it; 温室气体包括哪些 → ("…所称温室气体", "suffix"); 哪些热线或平台 → 热线, 平台."""
    m = _HEAD_NAME.search(text)
    if m:
        return [(m.group("x"), "exact")]
    m = _HEAD_AFTER.search(text)
    if m:
        x = m.group("x")
        first, *rest = re.split(r"或者|或|和|与|及|以及|、", x, maxsplit=1) + [""]
        heads = [first]
        if rest and rest[0] and not _HEAD_STOP.match(rest[0]):
            heads.append(rest[0])
        out = []
        for h in heads:
            h = _HEAD_STOP.split(h)[0] if not _HEAD_STOP.match(h) else ""
            if h:
                out.append((h, "prefix"))
        return out
    m = _HEAD_BEFORE.search(text)
    if m:
        return [(m.group("x"), "suffix")]
    return []


def analyse(raw: str) -> Question:
    text, notes = clean_question(raw)
    english = is_english(text)
    qtype = classify(text, english)
    baselines = set(_BASELINE_YEAR.findall(text))
    years = sorted(y for y in set(_YEAR_RE.findall(text)) if y not in baselines)
    low = text.lower()
    places = [p for p in OTHER_PLACES if p in text]
    places += [zh for en, zh in _EN_PLACES.items() if en in low and zh not in HENGYANG_PLACES and zh not in places]
    if english:
        terms = [t for t in english_terms(text) if t not in ("衡阳", "长沙")]
        if not terms:
            terms = [w for w in re.findall(r"[a-z][a-z0-9.\-]+", low) if w not in _EN_STOP and len(w) > 2]
    else:
        terms = subject_terms(text, qtype) or subject_terms(text, "open")
    wants_number = bool(_WANTS_NUMBER.search(low))
    articles = english_articles(text) if english else re.findall(r"第[一二三四五六七八九十百零]+条", text)
    heads = list_heads(text) if qtype == "list" and not english else []
    return Question(raw=str(raw), text=text, qtype=qtype, terms=terms, english=english, years=years,
                    places=places, notes=notes, wants_number=wants_number, articles=articles, heads=heads)
