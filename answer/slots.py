"""Slot detection: does a sentence (or clause) state the kind of detail the question asks for?

Each detector returns the matched slot text (a substring of the input) or ``None``.
"""

from __future__ import annotations

import re

_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)"
_UNIT = (
    r"(?:%|％|ug/m3|μg/m3|µg/m3|ug/m³|μg/m³|微克/立方米|毫克/立方米|mg/m3|个百分点|万立方米|立方米|万千瓦|千瓦|"
    r"万元|亿元|元|个工作日|工作日|天|日|小时|个月|周(?!年)|年(?!度)|吨|万吨|公顷|亩|平方公里|平方米|公里|千米|米|分贝|dB|倍|个|家|座|项|处|人|次|条|所)"
)
FIGURE_RE = re.compile(rf"(?<!第)(?<!\d){_NUM}\s*{_UNIT}(?:以上|以下|以内|左右|之内)?")
_YEAR_ONLY = re.compile(r"^(?:19|20)\d{2}年$")
PERCENT_RE = re.compile(r"\d+(?:\.\d+)?\s*[%％]")

_MONEY = rf"{_NUM}\s*(?:万|亿)?元"
PENALTY_RE = re.compile(
    rf"(?:处|并处|处以)?[^，,；;。]{{0,24}}?(?:{_MONEY}|{_NUM}倍)(?:以上)?(?:[^，,；;。]{{0,10}}?(?:{_MONEY}|{_NUM}倍)以下)?的?(?:罚款|罚金)"
    r"|按日连续处罚|处[^，,；;。]{0,10}?(?:拘留|有期徒刑|拘役)[^，,；;。]{0,20}"
)
PENALTY_MEASURE_RE = re.compile(r"罚款|罚金|拘留|有期徒刑|拘役|吊销|责令停业|责令关闭|没收|责令停产")

DATE_RE = re.compile(
    r"(?:(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
    r"|(?:19|20)\d{2}-\d{1,2}-\d{1,2}|自(?:发布|公布)之日|每年\d{1,2}月\d{1,2}日|每年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日|(?:19|20)\d{2}年\d{1,2}月|(?:19|20)\d{2}年(?:底|前|内|起)|(?<=[\"“])\d{1,2}\.\d{1,2}(?=[\"”]))"
)

_ORG_TAIL = (
    r"(?:人民政府|政府|主管部门|行政主管部门|管理部门|有关部门|部门|生态环境局|环境局|局|委员会|委|办公室|领导小组|"
    r"小组|厅|部|办|机关|法院|检察院|公安机关|海关|单位|机构|总局|中心|协调机制)"
)
ORG_RE = re.compile(rf"[\u4e00-\u9fffA-Za-z（）()]{{1,18}}?{_ORG_TAIL}")
_LEAD_VERB = re.compile(r"牵头|负责|主管|主办|统一监督管理|监督管理|组织实施|实施监督|承担|审批|核发|批准|管理工作|具体实施|会同|"
                        r"制定|征收|统筹协调|统一指导")
_LEAD_PATTERNS = [
    re.compile(rf"由(?P<org>[^，,；;。]{{2,40}}?{_ORG_TAIL})(?:牵头|负责|组织|会同|主管|实施|批准|审批|核发|征收|决定|给予|责令)"),
    re.compile(rf"(?P<org>[\u4e00-\u9fffA-Za-z（）()、和]{{2,70}}?{_ORG_TAIL})[，,]?(?:牵头|负责|主管|统一|具体|对|依照|依据|按照|应当|会同|组织|制定|征收)"),
    re.compile(r"牵头(?:单位|部门)[:：为是]?(?P<org>[^，,；;。]{2,30})"),
]
_ESTABLISH = re.compile(r"(?:建立|成立|设立)(?:我市|全市|市)?(?P<org>[\u4e00-\u9fff]{2,30}?(?:领导小组|委员会|办公室|机构))")
_BAD_ORG = re.compile(r"^(?:企业|涉铊企业|有关单位|单位|个人|其他|生产经营|排污单位|重点排污单位|建设单位|生产经营单位)$")

DEFINITION_RE = re.compile(r"是指|系指|指的是|[，,：:]指|[(（]以下(?:简)?称")


# What kind of figure a question expects, from its wording → units that can answer it.
EXPECTED_UNITS: list[tuple[re.Pattern, re.Pattern]] = [
    (re.compile(r"钱|资金|经费|投资|税额|价格|卖多少|奖金|多少元|多少万|亿元|money|cost|price|fund"),
     re.compile(r"元|倍")),
    (re.compile(r"多久|几年|几天|多少天|多少日|几日|期限|几个月|多长时间|有效期|保存|工作日|日内|天内|how long"),
     re.compile(r"年|日|天|月|小时|周")),
    (re.compile(r"比例|比率|百分之|比重|占多少|[^功]率|percentage|rate"), re.compile(r"%|％|百分|个百分点|成")),
    (re.compile(r"多远|多大范围|范围内|公里|千米|多少米|多深|多高|多宽"), re.compile(r"公里|千米|米")),
    (re.compile(r"多少吨|几吨"), re.compile(r"吨")),
    (re.compile(r"微克|毫克|每立方米|ug|μg|mg"), re.compile(r"ug|μg|µg|微克|毫克|mg")),
]


def expected_units(question: str) -> re.Pattern | None:
    for cue, units in EXPECTED_UNITS:
        if cue.search(question):
            return units
    return None


def figure_slot(text: str, question: str = "") -> str | None:
    """A number with a unit; when the question says what kind (money, time, rate) the unit must fit,
    and a figure the question itself states ("四个化工园区") is not an answer."""
    units = expected_units(question) if question else None
    qn = question.replace(" ", "")
    for m in FIGURE_RE.finditer(text):
        slot = m.group(0)
        if _YEAR_ONLY.match(slot.strip()):
            continue
        core = re.sub(r"(以上|以下|以内|左右|之内)$", "", slot)
        if qn and core in qn:
            continue
        if units is not None and not units.search(slot):
            continue
        return slot
    return None


def penalty_slot(text: str) -> str | None:
    m = PENALTY_RE.search(text)
    return m.group(0).lstrip("，,；; ") if m else None


def penalty_measure(text: str) -> str | None:
    m = PENALTY_MEASURE_RE.search(text)
    return m.group(0) if m else None


def date_slot(text: str) -> str | None:
    m = DATE_RE.search(text)
    return m.group(0) if m else None


_RIGHT = re.compile(r"(?P<org>任何单位和个人|任何组织和个人|公民、法人和其他组织|[\u4e00-\u9fff、]{2,30}?(?:单位|个人|组织|机关))"
                    r"[^；;。]{0,60}?(?:都|均)?(?:有权|有[^，,；;。]{1,20}的权利)")


def right_holder(text: str) -> str | None:
    """Who may do something: 任何单位和个人……均有向生态环境主管部门举报的权利."""
    m = _RIGHT.search(text)
    return m.group("org") if m else None


_RECIPIENT = re.compile(rf"向(?P<org>[^，,；;。向]{{2,50}}?{_ORG_TAIL})(?:[(（]以下[^)）]{{0,12}}[)）])?(?:申请|提出|报送|提交|备案|报告|举报)")


def recipient_slot(text: str) -> str | None:
    """To whom something is submitted: 应当向…生态环境主管部门(以下称审批部门)申请取得排污许可证."""
    m = _RECIPIENT.search(text)
    return m.group("org") if m else None


def who_slot(text: str, established: bool = False) -> str | None:
    """An organisation in a clause that gives it a leading/responsible role. With ``established``
    (the question asks which body is set up: 建立什么机构), a body the text sets up also counts."""
    if established:
        m = _ESTABLISH.search(text)
        if m:
            return m.group("org")
    if not _LEAD_VERB.search(text):
        return None
    for pat in _LEAD_PATTERNS:
        for m in pat.finditer(text):
            org = m.group("org").strip("，,：: ")
            org = re.sub(r"^(?:由|对|并|应当|按照|依照|依法|根据|(?:国家)?(?:建立|设立|成立))", "", org)
            if len(org) >= 2 and not _BAD_ORG.match(org):
                return org
    return None


def definition_slot(text: str) -> str | None:
    m = DEFINITION_RE.search(text)
    return m.group(0) if m else None


_LAST_JOIN = re.compile(r"、[^、，,；;。]{1,30}?(?:和|及|以及|或者|或|与)[^、，,；;。]{1,30}")


def enumeration_count(text: str, min_items: int = 3) -> int:
    """How many items a sentence enumerates with 、 (A、B和C counts 3); 0 below ``min_items``."""
    n = text.count("、") + 1
    if n >= 2 and _LAST_JOIN.search(text):
        n += 1
    elif n == 1 and re.search(r"[\u4e00-\u9fff]{2,}(?:和|及|以及|或者|或|与)[\"“]?[\u4e00-\u9fff\d]{2,}", text):
        n = 2
    return n if n >= min_items else 0
