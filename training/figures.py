"""Figures in policy text: find them, compare a learner's answer with one, and perturb one.

A *figure* is a number with its unit as printed (``39ug/m3``, ``88%``, ``5年``, ``十万元``), a range
(``二万元以上二十万元以下``) or a date (``2021年3月1日``). Values are kept in the unit's base
(``十万元`` → 100000 元) so ``10万元``, ``100000元`` and ``十万元`` compare equal.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from policy_assistant.corpus.text import cn_to_int, int_to_cn

# unit as printed → (canonical unit, multiplier). Longest spellings first in the regex.
UNITS: dict[str, tuple[str, float]] = {
    "ug/m3": ("ug/m3", 1), "μg/m3": ("ug/m3", 1), "µg/m3": ("ug/m3", 1), "ug/m³": ("ug/m3", 1),
    "μg/m³": ("ug/m3", 1), "µg/m³": ("ug/m3", 1), "微克/立方米": ("ug/m3", 1), "微克每立方米": ("ug/m3", 1),
    "mg/m3": ("mg/m3", 1), "毫克/立方米": ("mg/m3", 1),
    "%": ("%", 1), "％": ("%", 1), "个百分点": ("pp", 1), "百分点": ("pp", 1),
    "万立方米": ("m3", 1e4), "立方米": ("m3", 1), "万吨": ("t", 1e4), "吨": ("t", 1),
    "万元": ("元", 1e4), "元": ("元", 1), "万": ("", 1e4),
    "个工作日": ("workday", 1), "工作日": ("workday", 1), "个月": ("month", 1), "月": ("month", 1),
    "日": ("day", 1), "天": ("day", 1), "年": ("year", 1), "周年": ("year", 1), "小时": ("hour", 1),
    "倍": ("times", 1), "公顷": ("ha", 1), "平方米": ("m2", 1), "千米": ("km", 1), "公里": ("km", 1),
    "米": ("m", 1), "分贝": ("db", 1), "个": ("count", 1), "家": ("count", 1), "项": ("count", 1),
    "次": ("times_n", 1), "人": ("person", 1),
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))

# Units a figure in the *source text* must carry (a bare number there is not a figure).
_TEXT_UNITS_AR = ("ug/m3|μg/m3|µg/m3|微克/立方米|%|％|个百分点|万立方米|立方米|万吨|吨|万元|元|个工作日|工作日|个月|"
                  "日|天|年|小时|倍|公顷|平方米|千米|公里|分贝|个|家|项|次")
_TEXT_UNITS_CN = "万元|万吨|元|个工作日|工作日|个月|日|天|年|小时|倍|公顷"

_AR_NUM = r"(?<![A-Za-z0-9.．_/])\d+(?:\.\d+)?"
_CN_NUM = r"(?<![下每同当统唯第其任逐单初月零〇一二两三四五六七八九十百千万])(?<![^以]上)[一二两三四五六七八九十百千][零一二两三四五六七八九十百千]*"
_AR_FIG = rf"{_AR_NUM}(?:{_TEXT_UNITS_AR})"
_CN_FIG = rf"{_CN_NUM}(?:{_TEXT_UNITS_CN})(?!度)"
_DATE = r"(?<!\d)(?:\d{4}年)?\d{1,2}月\d{1,2}日"
_RANGE_SEP = r"(?:以上|至|到|-|—|～|~)"


@dataclass(frozen=True)
class Figure:
    """One figure found in a text: span, text as printed, values in base units, canonical unit."""

    start: int
    end: int
    text: str
    values: tuple[float, ...]
    unit: str
    kind: str = "number"  # "number" | "range" | "date"
    chinese: bool = False
    mults: tuple[float, ...] = ()  # the printed unit's multiplier per value (万元 → 10000)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


# --------------------------------------------------------------------------- finding figures in text


def _single(text: str, start: int, end: int, chinese: bool) -> Figure | None:
    raw = text[start:end]
    m = re.match(rf"^(.*?)({_UNIT_ALT})$", raw)
    if not m:
        return None
    num, unit = m.group(1), m.group(2)
    if chinese:
        value = cn_to_int(num)
        if value is None:
            return None
    else:
        value = float(num)
        if unit == "年" and len(num) == 4 and value > 1900:
            return None  # a year, not a duration
    canon, mult = UNITS[unit]
    return Figure(start, end, raw, (float(value) * mult,), canon, "number", chinese, (mult,))


def find_figures(text: str, *, chinese: bool = True) -> list[Figure]:
    """Figures in ``text`` in order: dates, ranges (``X以上Y以下``), then single numbers with units.

    ``chinese`` also finds Chinese-numeral figures (``十万元``), as laws print them.
    """
    pattern = f"{_DATE}|{_AR_FIG}" + (f"|{_CN_FIG}" if chinese else "")
    singles: list[Figure] = []
    for m in re.finditer(pattern, text):
        if re.fullmatch(_DATE, m.group(0)):
            parts = tuple(float(x) for x in re.findall(r"\d+", m.group(0)))
            singles.append(Figure(m.start(), m.end(), m.group(0), parts, "date", "date"))
            continue
        fig = _single(text, m.start(), m.end(), not m.group(0)[0].isdigit())
        if fig is not None:
            singles.append(fig)
    out: list[Figure] = []
    i = 0
    while i < len(singles):
        a = singles[i]
        if i + 1 < len(singles) and a.kind == "number":
            b = singles[i + 1]
            between = text[a.end:b.start]
            tail = re.match(r"以下", text[b.end:])
            if b.kind == "number" and b.unit == a.unit and re.fullmatch(_RANGE_SEP, between) and (
                    between != "以上" or tail):
                end = b.end + (2 if tail else 0)
                out.append(Figure(a.start, end, text[a.start:end], (a.values[0], b.values[0]), a.unit, "range",
                                  a.chinese, (*a.mults, *b.mults)))
                i += 2
                continue
        out.append(a)
        i += 1
    return out


# --------------------------------------------------------------------------- learner answers


def _cn_to_arabic(text: str) -> str:
    """Replace Chinese-numeral runs with Arabic digits (``五年`` → ``5年``; ``百分之八十八`` → ``88%``)."""
    def pct(m):
        v = cn_to_int(m.group(1)) if not m.group(1)[0].isdigit() else None
        num = m.group(1) if v is None else _fmt(v)
        return f"{num}%"

    text = re.sub(r"百分之([0-9.]+|[零〇一二两三四五六七八九十百千]+)", pct, text)

    def run(m):
        if set(m.group(0)) <= {"百", "千"}:  # "百分点", "千瓦": a unit word, not a number
            return m.group(0)
        v = cn_to_int(m.group(0))
        return m.group(0) if v is None else str(v)

    return re.sub(r"[零〇一二两三四五六七八九十百千][零〇一二两三四五六七八九十百千万]*", run, text)


def parse_answer_figures(text: str) -> list[tuple[float, str | None]]:
    """Numbers in a learner's answer as ``(value in base units, canonical unit or None)``.

    A bare number takes the unit of a following number in a range (``10-100万元``).
    """
    text = _cn_to_arabic(text.replace(",", "").replace("，", ""))
    found: list[tuple[float, str | None, float, int, int]] = []
    for m in re.finditer(rf"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s*({_UNIT_ALT})?", text):
        unit = m.group(2)
        canon, mult = UNITS[unit] if unit else (None, 1)
        found.append((float(m.group(1)), canon or None, mult if unit else 0, m.start(), m.end()))
    out: list[tuple[float, str | None]] = []
    for i, (value, canon, mult, _s, e) in enumerate(found):
        if not mult and i + 1 < len(found):
            nxt = found[i + 1]
            if re.fullmatch(r"\s*(?:-|—|~|～|到|至|以上)?\s*", text[e:nxt[3]]) and nxt[2]:
                canon, mult = nxt[1], nxt[2]
        out.append((value * (mult or 1), canon))
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def figure_matches(expected: Figure, response: str) -> bool:
    """True when ``response`` states the expected figure (units optional; if given, they must fit)."""
    if expected.kind == "date":
        nums = [float(x) for x in re.findall(r"\d+", _cn_to_arabic(response))]
        want = list(expected.values)
        if any(nums[i:i + len(want)] == want for i in range(len(nums))):
            return True
        return len(want) == 3 and nums == want[1:]  # month and day without the year
    got = parse_answer_figures(response)
    want = list(expected.values)
    mults = list(expected.mults) or [1.0] * len(want)

    def same(g: tuple[float, str | None], w: float, mult: float) -> bool:
        if g[1] is None:  # a bare number: as printed ("70" for 70万立方米) or in the base unit
            return _close(g[0], w) or _close(g[0], w / mult)
        return g[1] in ("", expected.unit) and _close(g[0], w)

    for i in range(len(got) - len(want) + 1):
        if all(same(g, w, m) for g, w, m in zip(got[i:i + len(want)], want, mults, strict=True)):
            return True
    return False


# --------------------------------------------------------------------------- question words, perturbation

QUESTION_WORDS = {"year": "几年", "day": "多少日", "workday": "多少个工作日", "month": "几个月", "hour": "多少小时",
                  "%": "百分之多少", "pp": "几个百分点", "元": "多少钱", "times": "几倍", "count": "几个"}


def question_word(fig: Figure) -> str:
    """What to ask in place of the figure: ``几年``, ``多少日``, ``多少钱`` …"""
    if fig.kind == "date":
        return "何时"
    if fig.kind == "range":
        return "多少" if fig.unit != "元" else "多少钱"
    return QUESTION_WORDS.get(fig.unit, "多少")


def _render_value(fig: Figure, value: float, printed: str) -> str:
    """``printed`` (one number with its unit) with its number replaced by ``value`` (same unit, same script)."""
    m = re.match(rf"^(.*?)({_UNIT_ALT})$", printed)
    num, unit = m.group(1), m.group(2)
    mult = UNITS[unit][1]
    v = value / mult
    if fig.chinese:
        return int_to_cn(int(round(v))) + unit
    decimals = len(num.split(".")[1]) if "." in num else 0
    return (f"{v:.{decimals}f}" if decimals else str(int(round(v)))) + unit


def _other_value(v: float, unit: str, rng: random.Random) -> float:
    if unit == "%":
        base = [v - 5, v - 3, v + 3, v + 5] if v < 95 else [v - 5, v - 10, v - 3]
        cands = [c for c in base if 0 < c < 100 and not _close(c, v)]
    elif float(v).is_integer() and v >= 10:
        cands = [v * 2, v * 3, v * 5] + ([v / 2] if v % 2 == 0 else [])
    elif float(v).is_integer():
        cands = [v + 1, v + 2, v * 2] + ([v - 1] if v > 1 else [])
    else:
        cands = [v + 1, v + 2, v - 1, v + 0.5]
    cands = [c for c in cands if c > 0 and not _close(c, v)]
    return rng.choice(cands)


def perturb_figure(text: str, fig: Figure, rng: random.Random) -> str | None:
    """``text`` with ``fig`` changed to a different, plausible figure (None for dates)."""
    if fig.kind == "date":
        return None
    printed = fig.text
    if fig.kind == "range":
        m = re.match(rf"^(.+?)({_RANGE_SEP})(.+?)(以下)?$", printed)
        if not m:
            return None
        lo_txt, sep, hi_txt, tail = m.group(1), m.group(2), m.group(3), m.group(4) or ""
        lo, hi = fig.values
        for _ in range(6):
            if rng.random() < 0.5:
                new_hi = _other_value(hi, fig.unit, rng)
                if new_hi > lo:
                    new = lo_txt + sep + _render_value(fig, new_hi, hi_txt) + tail
                    break
            else:
                new_lo = _other_value(lo, fig.unit, rng)
                if new_lo < hi:
                    new = _render_value(fig, new_lo, lo_txt) + sep + hi_txt + tail
                    break
        else:
            return None
    else:
        new = _render_value(fig, _other_value(fig.values[0], fig.unit, rng), printed)
    if new == printed:
        return None
    return text[:fig.start] + new + text[fig.end:]
