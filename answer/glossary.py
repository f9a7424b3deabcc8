"""English → Chinese terms so English questions can be matched against the Chinese passages.

Only vocabulary of this corpus; the multilingual embedder covers the rest at retrieval time.
Longest phrases first; matching is on lower-cased, space-normalised text.
"""

from __future__ import annotations

import re

from policy_assistant.corpus.text import int_to_cn

# Everyday Chinese short forms → the documents' wording (a term matches a passage through any of them).
ZH_ALIASES: dict[str, tuple[str, ...]] = {
    "环评": ("环境影响评价",), "排污证": ("排污许可证",), "环保部门": ("生态环境主管部门", "环境保护主管部门"),
    "环保局": ("生态环境主管部门", "环境保护主管部门", "生态环境局"), "环保": ("环境保护", "生态环境"),
    "环保税": ("环境保护税",), "碳交易": ("碳排放权交易",), "危废": ("危险废物",), "固废": ("固体废物",),
    "收费": ("收取费用", "收取任何费用"),
}

EN_ZH: dict[str, tuple[str, ...]] = {
    "pm2.5": ("PM2.5",), "pm 2.5": ("PM2.5",), "fine particulate": ("细颗粒物",),
    "ozone": ("臭氧",), "air quality": ("空气质量",), "good air quality": ("优良率",),
    "heavy pollution days": ("重污染天数",), "heavily polluted days": ("重污染天数",),
    "forest coverage": ("森林覆盖率",), "forest cover": ("森林覆盖率",), "forest stock": ("森林蓄积量",),
    "wetland protection rate": ("湿地保护率",), "wetland": ("湿地",), "wetlands": ("湿地",),
    "thallium": ("铊",), "cadmium": ("镉",), "heavy metal": ("重金属",), "heavy metals": ("重金属",),
    "black and odorous": ("黑臭水体",), "black-odorous": ("黑臭水体",),
    "drinking water": ("饮用水",), "water quality": ("水质",), "groundwater": ("地下水",),
    "sewage": ("污水",), "wastewater": ("污水",), "rural": ("农村",),
    "soil": ("土壤",), "farmland": ("耕地",), "contaminated land": ("污染地块",),
    "noise": ("噪声",), "solid waste": ("固体废物",), "hazardous waste": ("危险废物",),
    "radioactive": ("放射性",), "radiation": ("辐射",), "nuclear": ("核",),
    "carbon emission trading": ("碳排放权交易",), "emissions trading": ("碳排放权交易",),
    "carbon trading": ("碳排放权交易",), "carbon emission": ("碳排放",), "carbon emissions": ("碳排放",),
    "carbon dioxide": ("二氧化碳",), "carbon intensity": ("二氧化碳排放强度",), "carbon peak": ("碳排放达峰",),
    "nitrogen oxides": ("氮氧化物",), "volatile organic": ("挥发性有机物",), "vocs": ("VOCs",),
    "chemical oxygen demand": ("化学需氧量",), "ammonia nitrogen": ("氨氮",),
    "pollutant discharge permit": ("排污许可",), "discharge permit": ("排污许可",), "emission permit": ("排污许可",),
    "pollution permit": ("排污许可",), "environmental impact assessment": ("环境影响评价",), "eia": ("环境影响评价",),
    "environmental protection tax": ("环境保护税",), "environment tax": ("环境保护税",),
    "environment day": ("环境日",), "environmental day": ("环境日",),
    "environmental protection law": ("环境保护法",), "environment protection law": ("环境保护法",),
    "air pollution": ("大气污染",), "water pollution": ("水污染",), "soil pollution": ("土壤污染",),
    "nature reserve": ("自然保护区",), "nature reserves": ("自然保护区",),
    "livestock": ("畜禽",), "poultry": ("畜禽",), "yangtze": ("长江",), "xiangjiang": ("湘江",),
    "ecological compensation": ("生态保护补偿",), "eco-compensation": ("生态保护补偿",),
    "forest law": ("森林法",), "forest": ("森林",),
    "demonstration projects": ("示范工程",), "demonstration project": ("示范工程",),
    "seven demonstration": ("七大示范工程",), "eight campaigns": ("八大攻坚行动",),
    "campaign": ("攻坚行动",), "campaigns": ("攻坚行动",),
    "expert studio": ("专家工作室",), "expert studios": ("专家工作室",), "expert workshop": ("专家工作室",),
    "river chief": ("河湖长制",), "forest chief": ("林长制",),
    "central environmental inspection": ("中央生态环保督察",), "inspection": ("督察",),
    "construction project": ("建设项目",), "construction projects": ("建设项目",),
    "dust": ("扬尘",), "straw": ("秸秆",), "plastic": ("塑",), "garbage": ("垃圾",), "waste": ("废物",),
    "main targets": ("主要目标",), "main tasks": ("主要任务",), "work points": ("工作要点",),
    "hengyang": ("衡阳",), "changsha": ("长沙",), "hunan": ("湖南",),
    "ecological environment": ("生态环境",), "environmental protection": ("环境保护",),
    "biodiversity": ("生物多样性",), "greenhouse": ("温室气体",), "greenhouse gases": ("温室气体",),
    "yangtze river protection law": ("长江保护法",), "yangtze river": ("长江",),
    "regulations on the administration of pollutant discharge permits": ("排污许可管理条例",),
    "pollutant discharge permits": ("排污许可",), "discharge permit regulation": ("排污许可管理条例",),
    "carbon emission trading regulation": ("碳排放权交易管理暂行条例",),
    "interim regulations on the administration of carbon emission trading": ("碳排放权交易管理暂行条例",),
    "regulation on ecological protection compensation": ("生态保护补偿条例",),
    "ecological protection compensation": ("生态保护补偿",),
    "noise pollution": ("噪声污染",), "wetland protection law": ("湿地保护法",),
    "environmental impact assessment law": ("环境影响评价法",), "forestry": ("林业",),
    "daily basis": ("按日连续处罚",), "fined daily": ("按日连续处罚",), "refuses to correct": ("拒不改正",),
    "define": (), "supervision": ("监督管理",), "unified supervision": ("统一监督管理",),
    "nationwide": ("全国",), "national": ("全国",), "taxpayer": ("纳税人",),
    "allocated free": ("免费分配",), "free of charge": ("免费",), "quota": ("配额",), "allowances": ("配额",),
    "valid": ("有效期",), "validity": ("有效期",), "environment": ("环境",), "pollution": ("污染",),
}

_EN_KEYS = sorted(EN_ZH, key=len, reverse=True)
_EN_NUM = re.compile(r"\barticle\s+(\d{1,3})\b", re.I)


def english_articles(text: str) -> list[str]:
    """"Article 90" → "第九十条"."""
    return [f"第{int_to_cn(int(m))}条" for m in _EN_NUM.findall(text)]


def english_terms(text: str) -> list[str]:
    """Chinese terms for the glossary phrases found in an English question (longest match first)."""
    t = " " + re.sub(r"[^a-z0-9.\- ]+", " ", text.lower()) + " "
    t = re.sub(r"\s+", " ", t)
    found: list[str] = []
    for key in _EN_KEYS:
        pat = f" {key} "
        if pat in t:
            for zh in EN_ZH[key]:
                if zh not in found and not any(zh in f for f in found):
                    found.append(zh)
            t = t.replace(pat, " | ")
    for quoted in re.findall(r"[\"“'‘]([a-z][a-z0-9 .\-]{1,40})[\"”'’]", text.lower()):
        for zh in EN_ZH.get(quoted.strip(), ()):  # the word a definition question asks about
            if zh not in found:
                found.append(zh)
    return found
