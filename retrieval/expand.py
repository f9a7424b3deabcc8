"""Query-side helpers for retrieval: BM25 query expansion, named documents, article labels.

Everything here works on the (normalised) query text at search time; the index is untouched.

- :func:`expand_bm25_query` appends document vocabulary for everyday words (排污证 → 排污许可证,
  罚多少钱 → 罚款, 种树/林子 → 森林覆盖率, 是指什么 → 所称/是指) and, for English questions, Chinese
  keywords for English ones (fine → 罚款, permit → 排污许可证). Applied to the BM25 query only: the
  dense embedder already understands paraphrases and English, and expansion words would blur it.
- :func:`named_doc_ids` finds documents whose title, or short title without 中华人民共和国, occurs in
  the query (``corpus.text.named_doc_ids``), also by English law names ("Environmental Protection
  Law" → 环境保护法).
- :func:`article_labels` extracts the "第X条" labels a question cites.
"""

from __future__ import annotations

import re

from policy_assistant.corpus.text import CN_NUMERALS, int_to_cn, is_english, short_title
from policy_assistant.corpus.text import named_doc_ids as _named_in_text

# everyday words → the words the documents use (matched as substrings of the normalised query)
ZH_GLOSSARY: tuple[tuple[str, str], ...] = (
    ("排污证", "排污许可证"),
    ("没拿到", "未取得"),
    ("没有取得", "未取得"),
    ("没取得", "未取得"),
    ("无证", "未取得 许可证"),
    ("偷偷", "私自"),
    ("罚多少", "罚款"),
    ("罚几", "罚款"),
    ("罚钱", "罚款"),
    ("要罚", "罚款 处罚"),
    ("怎么罚", "罚款 处罚"),
    ("多少钱", "罚款 元"),
    ("天天罚", "按日连续处罚"),
    ("每天罚", "按日连续处罚"),
    ("按天罚", "按日连续处罚"),
    ("种树", "森林覆盖率 造林 绿化"),
    ("植树", "森林覆盖率 造林"),
    ("林子", "森林 森林覆盖率"),
    ("树林", "森林"),
    ("盖住", "覆盖率"),
    ("是指什么", "所称 是指"),
    ("指什么", "所称 是指"),
    ("什么意思", "所称 是指"),
    ("定义", "所称 是指"),
    ("哪天起", "施行"),
    ("何时施行", "施行 起施行"),
    ("什么时候施行", "施行 起施行"),
    ("什么时候生效", "施行 起施行"),
    ("生效", "施行"),
    ("坐牢", "拘留 刑事责任"),
    ("关起来", "拘留"),
    ("抓人", "拘留"),
)

# English keyword (lower case, matched on word starts) → Chinese document terms
EN_GLOSSARY: tuple[tuple[str, str], ...] = (
    ("fine", "罚款"),
    ("penalt", "处罚 罚款"),
    ("punish", "处罚"),
    ("detention", "拘留"),
    ("detain", "拘留"),
    ("without a permit", "未取得 排污许可证"),
    ("without a pollutant discharge permit", "未取得 排污许可证"),
    ("discharge permit", "排污许可证"),
    ("permit", "排污许可证 许可证"),
    ("discharg", "排放 排污"),
    ("pollutant", "污染物"),
    ("pollution", "污染"),
    ("define", "所称 是指"),
    ("definition", "所称 是指"),
    ("mean", "所称 是指"),
    ("environment", "环境"),
    ("greenhouse gas", "温室气体"),
    ("carbon", "碳排放"),
    ("emission", "排放"),
    ("trading", "交易"),
    ("allowance", "配额"),
    ("forest coverage", "森林覆盖率"),
    ("forest", "森林"),
    ("water", "水"),
    ("air", "大气"),
    ("soil", "土壤"),
    ("noise", "噪声"),
    ("solid waste", "固体废物"),
    ("waste", "废物"),
    ("radioactive", "放射性"),
    ("wetland", "湿地"),
    ("nature reserve", "自然保护区"),
    ("reserve", "保护区"),
    ("zone", "区"),
    ("livestock", "畜禽 养殖"),
    ("tax", "环境保护税 税"),
    ("compensation", "补偿"),
    ("environmental impact assessment", "环境影响评价"),
    ("impact assessment", "环境影响评价"),
    ("yangtze", "长江"),
    ("effective", "施行"),
    ("take effect", "施行"),
    ("come into force", "施行"),
    ("target", "目标"),
    ("report", "报告"),
    ("record", "记录 台账"),
    ("responsib", "负责 责任"),
    ("supervis", "监督管理"),
    ("daily", "按日连续处罚"),
    ("per day", "按日连续处罚"),
    ("crime", "犯罪 刑事"),
    ("criminal", "刑事 犯罪"),
    ("ecolog", "生态"),
    ("protect", "保护"),
)

# English names of the documents → a part of their Chinese title
EN_TITLES: tuple[tuple[str, str], ...] = (
    ("environmental protection tax", "环境保护税法"),
    ("environmental impact assessment", "环境影响评价法"),
    ("environmental protection law", "环境保护法"),
    ("environment protection law", "环境保护法"),
    ("discharge permit", "排污许可管理条例"),
    ("pollutant discharge permit", "排污许可管理条例"),
    ("carbon emission", "碳排放权交易管理暂行条例"),
    ("carbon trading", "碳排放权交易管理暂行条例"),
    ("water pollution", "水污染防治法"),
    ("air pollution", "大气污染防治法"),
    ("atmospheric pollution", "大气污染防治法"),
    ("soil pollution", "土壤污染防治法"),
    ("noise pollution", "噪声污染防治法"),
    ("solid waste", "固体废物污染环境防治法"),
    ("radioactive", "放射性污染防治法"),
    ("wetland", "湿地保护法"),
    ("forest law", "森林法"),
    ("yangtze", "长江保护法"),
    ("nature reserve", "自然保护区条例"),
    ("ecological protection compensation", "生态保护补偿条例"),
    ("livestock", "畜禽规模养殖污染防治条例"),
)

_ARTICLE = re.compile(rf"第([{CN_NUMERALS}]+|\d+)条")


def _en_matches(q: str, key: str) -> bool:
    return re.search(r"\b" + re.escape(key), q) is not None


def expand_bm25_query(query: str) -> str:
    """``query`` plus document terms for the everyday / English words it uses (BM25 only)."""
    q = query.lower()
    extra: list[str] = []
    if is_english(query):
        for key, terms in EN_GLOSSARY:
            if _en_matches(q, key):
                extra.append(terms)
        for key, title in EN_TITLES:
            if _en_matches(q, key):
                extra.append(title)
    else:
        for key, terms in ZH_GLOSSARY:
            if key in query:
                extra.append(terms)
    if not extra:
        return query
    return query + " " + " ".join(dict.fromkeys(extra))


def longest_common_run(query: str, text: str, min_len: int = 4) -> int:
    """Length of the longest Chinese run of ``query`` (at least ``min_len`` characters) that occurs
    verbatim in ``text``; 0 when none does. Phrase evidence BM25's bag of words does not see."""
    best = 0
    for run in re.findall(r"[\u4e00-\u9fff0-9.%]+", query):
        n = len(run)
        if n <= best or n < min_len:
            continue
        for length in range(n, max(best, min_len - 1), -1):
            if any(run[i:i + length] in text for i in range(n - length + 1)):
                best = length
                break
    return best


def named_doc_ids(query: str, documents: list[dict], min_len: int = 4) -> list[str]:
    """Ids of the documents whose title or short title occurs in ``query`` (English law names too),
    in order of first mention; a title contained in a longer named one (环境保护法 in 环境保护税法) is
    not counted separately."""
    english: list[tuple[int, int, str]] = []
    if is_english(query):
        ql = query.lower()
        for key, part in EN_TITLES:
            m = re.search(r"\b" + re.escape(key), ql)
            if m:
                english += [(m.start(), m.end(), d["doc_id"]) for d in documents if short_title(d["title"]) == part]
    titles = {d["doc_id"]: d["title"] for d in documents}
    return _named_in_text(query, titles, min_len, extra=english)


def article_labels(query: str) -> list[str]:
    """The "第X条" labels cited in ``query`` (Arabic numbers converted to Chinese numerals)."""
    out = []
    for m in _ARTICLE.finditer(query):
        n = m.group(1)
        out.append(f"第{int_to_cn(int(n)) if n.isdigit() else n}条")
    return out
