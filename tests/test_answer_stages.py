"""The answer path's stages on small inputs (no index): analyse, evidence features, models, compose, verify."""

from __future__ import annotations

import numpy as np
import pytest
from index_fakes import SAMPLE, make_corpus

from policy_assistant.answer.analyse import Analyser, split_parts
from policy_assistant.answer.compose import Citations, clip, compose
from policy_assistant.answer.evidence import STATES, UNIT_FEATURES, EvidenceScorer, coverage, missing_max
from policy_assistant.answer.models import INTERACTIONS, LinearModel, Models
from policy_assistant.answer.stats import CorpusStats
from policy_assistant.answer.types import Decision, Part, Question, Term
from policy_assistant.answer.verify import make_consistent
from policy_assistant.core.errors import ConfigError, QuestionError
from policy_assistant.corpus.terms import make_tokenizer
from policy_assistant.corpus.vocabulary import load_vocabulary, parse_vocabulary
from policy_assistant.retrieval.types import Hit

VOCAB = load_vocabulary()


@pytest.fixture(scope="module")
def analyser():
    corpus = make_corpus(SAMPLE)
    return Analyser(VOCAB, CorpusStats(corpus.chunks), make_tokenizer(["排污许可证"]))


# ---- vocabulary ---------------------------------------------------------------------------------

def test_vocabulary_is_data_with_a_hash():
    assert VOCAB.sha256 and len(VOCAB.sha256) == 64
    assert "衡阳" in VOCAB.home_places and "长沙" in VOCAB.other_places
    assert VOCAB.answer_type("没有许可证排污会怎么处罚?") == "penalty"
    assert VOCAB.answer_type("这件事归哪个部门管，找谁投诉?") == "who"
    assert VOCAB.answer_type("How much is the fine?", english=True) == "penalty"
    assert VOCAB.states("penalty", "处十万元以上一百万元以下的罚款")
    assert not VOCAB.states("penalty", "国家建立生态保护补偿制度")


def test_bad_vocabulary_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="TOML"):
        parse_vocabulary("[region\nhome = 1", tmp_path / "v.toml")
    with pytest.raises(ConfigError, match="regular expression"):
        parse_vocabulary("[evidence]\nnumber = ['(']", tmp_path / "v.toml")
    with pytest.raises(ConfigError, match="not found"):
        load_vocabulary(tmp_path / "missing.toml")


# ---- analyse ------------------------------------------------------------------------------------

def test_long_message_splits_into_parts_with_context():
    text = "我家楼下工地半夜施工很吵，我能向哪里投诉，法律怎么规定的？"
    context, parts, _ = split_parts(text, VOCAB)
    assert "工地半夜施工很吵" in context
    assert parts == ["我能向哪里投诉，", "法律怎么规定的？"]


def test_three_questions_in_one_message():
    text = "我们厂没办排污许可证就在生产，会不会被罚？罚多少？归哪个部门管？"
    context, parts, _ = split_parts(text, VOCAB)
    assert len(parts) == 3 and "没办排污许可证" in context


def test_short_question_is_one_part(analyser):
    q = analyser.analyse("排污许可证有效期是几年?")
    assert len(q.parts) == 1 and q.parts[0].query == q.text and q.answer_type == "number"


def test_parts_get_types_and_context_queries(analyser):
    q = analyser.analyse("我们厂没办排污许可证就在生产，会不会被罚？罚多少？归哪个部门管？")
    assert [p.answer_type for p in q.parts] == ["penalty", "penalty", "who"]
    assert all("排污许可证" in p.query for p in q.parts)
    assert any(t.text == "排污许可证" and t.df > 0 for t in q.parts[0].terms)


def test_terms_drop_question_words_and_weigh_by_idf(analyser):
    terms = {t.text: t for t in analyser.terms("请问排污许可证的有效期是多少年呢")}
    assert "请问" not in terms and "多少" not in terms and "呢" not in terms
    assert "排污许可证" in terms


def test_pronouns_and_particles_are_not_terms(analyser):
    """Function characters (vocabulary stop_chars) are no subject: they only dilute coverage."""
    terms = {t.text for t in analyser.terms("老板连个过滤油烟的机器都不装，能罚他多少钱？")}
    assert not terms & {"他", "连", "个"} and "油烟" in terms


def test_everyday_negation_reads_as_the_legal_register(analyser):
    """没有 → 未 (a vocabulary alias): "没有排污许可证就排污" covers "未取得排污许可证排放污染物"."""
    terms = {t.text: t for t in analyser.terms("我们单位没有排污许可证就排污了")}
    assert terms["没有"].forms == ("未",)
    assert coverage(list(terms.values()), "（一）未取得排污许可证排放污染物；") > 0.6


def test_places_years_and_bad_input(analyser):
    q = analyser.analyse("长沙市2022年的PM2.5目标是多少?")
    assert q.places == ["长沙"] and q.years == ["2022"]
    with pytest.raises(QuestionError):
        analyser.analyse("   ")
    with pytest.raises(QuestionError):
        analyser.analyse("？？！")


def test_invalid_utf8_surrogates_are_a_question_error(analyser):
    with pytest.raises(QuestionError):
        analyser.analyse("排污\udcff许可证")


# ---- evidence -----------------------------------------------------------------------------------

def _hit(chunk, rank=1, dense=0.8, bm25=5.0):
    return Hit(chunk=chunk, score=1.0 / rank, rank=rank, dense_score=dense, bm25_score=bm25)


def test_coverage_counts_known_terms_by_idf():
    terms = [Term("排污许可证", 3.0, (), 2), Term("饭馆", 5.0, (), 0)]
    assert coverage(terms, "未取得排污许可证排放污染物") == 1.0  # the everyday word is left out
    assert coverage(terms, "森林") == 0.0
    assert missing_max(terms, "森林") == 1.0


def test_unit_features_and_types():
    corpus = make_corpus({"law": ("法律", [("第三十三条", "违反本条例规定，未取得排污许可证排放污染物的，"
                                                  "由生态环境主管部门责令改正，处二十万元以上一百万元以下的罚款。"
                                                  "拒不改正的，责令停产整治。")])})
    part = Part("未取得排污许可证排污怎么罚", "penalty", "未取得排污许可证排污怎么罚",
                [Term("排污许可证", 3.0, (), 1)])
    q = Question(raw=part.text, text=part.text, english=False, parts=[part], terms=part.terms)
    ev = EvidenceScorer(VOCAB).part_evidence(q, part, [_hit(corpus.chunks[0])], None)
    assert set(UNIT_FEATURES) <= set(ev.units[0].features)
    fines = [u for u in ev.units if u.features["u_type"] == 1.0 and u.index >= 0]
    assert fines and "罚款" in fines[0].text
    assert any(u.index == -1 for u in ev.units)  # the whole passage is a unit too


# ---- models -------------------------------------------------------------------------------------

def _toy_models(threshold=0.5) -> Models:
    n = len(UNIT_FEATURES) + len(INTERACTIONS)
    coef = np.zeros((1, n))
    coef[0, UNIT_FEATURES.index("u_type")] = 4.0
    unit = LinearModel(UNIT_FEATURES, ("no", "yes"), np.zeros(n), np.ones(n), coef, np.array([-2.0]), INTERACTIONS)
    from policy_assistant.answer.evidence import STATUS_FEATURES

    m = len(STATUS_FEATURES)
    sc = np.zeros((3, m))
    sc[0, STATUS_FEATURES.index("best")] = 6.0
    status = LinearModel(STATUS_FEATURES, ("answered", "not_found", "not_specified"), np.zeros(m), np.ones(m), sc,
                         np.array([-3.0, 0.0, -0.5]), meta={"answered_threshold": threshold})
    return Models(unit, status)


def test_model_json_round_trip_and_validation(tmp_path):
    models = _toy_models()
    path = tmp_path / "m.json"
    models.unit.save(path)
    import json

    again = LinearModel.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))
    row = {f: 0.3 for f in UNIT_FEATURES}
    assert np.allclose(again.predict_proba([row]), models.unit.predict_proba([row]))
    bad = models.unit.to_dict()
    bad["coef"] = [[1.0]]
    with pytest.raises(ConfigError, match="do not match"):
        LinearModel.from_dict(bad, "bad.json")
    assert not any(p.suffix in (".pkl", ".pickle") for p in tmp_path.iterdir())


# ---- verify and compose -------------------------------------------------------------------------

def test_status_never_contradicts_a_cited_fine():
    """A not_specified penalty answer may not cite a passage stating a fine: answered, or not cited."""
    from policy_assistant.answer.decide import score_units

    corpus = make_corpus({"law": ("法律", [("第七十七条", "违反本法规定，夜间施工产生噪声污染的，由主管部门责令改正，"
                                                  "处一万元以上十万元以下的罚款。")])})
    part = Part("夜间施工噪声扰民怎么处罚", "penalty", "夜间施工噪声扰民怎么处罚",
                [Term("夜间", 2.0, (), 1), Term("施工", 2.0, (), 1), Term("噪声", 2.0, (), 1)])
    q = Question(raw=part.text, text=part.text, english=False, parts=[part], terms=part.terms)
    ev = EvidenceScorer(VOCAB).part_evidence(q, part, [_hit(corpus.chunks[0])], None)
    score_units(ev, _toy_models())
    d = make_consistent(ev, Decision("not_specified", 0.6, {"answered": 0.3}), VOCAB)
    assert d.status == "answered"
    text, cites = compose([(ev, d)])
    assert "一万元以上十万元以下" in text and cites
    # the same passage, unrelated to the question (no key term): it is not cited at all
    part2 = Part("碳排放配额怎么处罚", "penalty", "碳排放配额怎么处罚", [Term("碳排放配额", 5.0, (), 1)])
    q2 = Question(raw=part2.text, text=part2.text, english=False, parts=[part2], terms=part2.terms)
    ev2 = EvidenceScorer(VOCAB).part_evidence(q2, part2, [_hit(corpus.chunks[0])], None)
    score_units(ev2, _toy_models())
    d2 = make_consistent(ev2, Decision("not_specified", 0.6, {"answered": 0.1}), VOCAB)
    assert d2.status == "not_specified"
    text2, cites2 = compose([(ev2, d2)])
    assert not any("罚款" in c.text for c in cites2)


def test_clip_keeps_the_anchor():
    text = "甲" * 300 + "处二十万元以上一百万元以下的罚款" + "乙" * 300
    out = clip(text, "二十万元")
    assert "二十万元" in out and out.startswith("…") and len(out) <= 245


def test_citations_number_each_chunk_once():
    corpus = make_corpus(SAMPLE)
    cites = Citations()
    h = _hit(corpus.chunks[0])
    assert cites.mark(h, "a") == cites.mark(h, "b") == 1
    assert cites.items[0].quote == "a b"
    assert STATES["penalty"] == "penalty"


def test_a_penalty_answer_quotes_every_fine_of_its_article():
    """个人 / 单位 / 情节严重: every sentence of the lead article that states a fine is quoted, in order."""
    from policy_assistant.answer.decide import score_units

    sentences = ["违反本法规定，随意倾倒、焚烧生活垃圾的，由环境卫生主管部门责令改正，处以罚款。",
                 "单位有前款行为的，处五万元以上五十万元以下的罚款；",
                 "情节严重的，处五十万元以上一百万元以下的罚款；",
                 "个人有前款行为的，处一百元以上五百元以下的罚款；",
                 "拒不改正的，处二千元以上一万元以下的罚款。",
                 "本条所称的生活垃圾，依照有关规定确定。"]
    corpus = make_corpus({"law": ("法律", [("第一百一十一条", "".join(sentences))])})
    part = Part("个人焚烧生活垃圾罚多少", "penalty", "个人焚烧生活垃圾罚多少",
                [Term("生活垃圾", 3.0, (), 1), Term("焚烧", 3.0, (), 1), Term("个人", 1.0, (), 1)])
    q = Question(raw=part.text, text=part.text, english=False, parts=[part], terms=part.terms)
    ev = EvidenceScorer(VOCAB).part_evidence(q, part, [_hit(corpus.chunks[0])], None)
    score_units(ev, _toy_models())
    text, _ = compose([(ev, Decision("answered", 0.9, {"answered": 0.9}))])
    fines = ["五万元以上五十万元以下", "五十万元以上一百万元以下", "一百元以上五百元以下", "二千元以上一万元以下"]
    assert all(f in text for f in fines), text
    assert [text.index(f) for f in fines] == sorted(text.index(f) for f in fines)
    assert "本条所称" not in text  # a sentence stating no fine is not added


def test_fines_in_the_continuation_of_a_long_article_are_quoted_once():
    """An article longer than a chunk goes on in the next chunk (same label): its fines count as the
    lead article's, and the sentence both chunks share (the overlap) is quoted once."""
    from policy_assistant.answer.decide import score_units

    head = "违反本法规定，随意倾倒、焚烧生活垃圾的，由环境卫生主管部门责令改正，处以罚款。"
    shared = "单位有前款行为的，处五万元以上五十万元以下的罚款；"
    tail = "个人有前款行为的，处一百元以上五百元以下的罚款。"
    more = "情节严重的，处五十万元以上一百万元以下的罚款；拒不改正的，处二千元以上一万元以下的罚款；"
    corpus = make_corpus({"law": ("法律", [("第一百一十一条", head + more + shared), ("第一百一十一条", shared + tail)])})
    assert corpus.chunks[0].path == corpus.chunks[1].path and corpus.chunks[0].chunk_id != corpus.chunks[1].chunk_id
    part = Part("个人焚烧生活垃圾罚多少", "penalty", "个人焚烧生活垃圾罚多少",
                [Term("生活垃圾", 3.0, (), 1), Term("焚烧", 3.0, (), 1)])
    q = Question(raw=part.text, text=part.text, english=False, parts=[part], terms=part.terms)
    ev = EvidenceScorer(VOCAB).part_evidence(q, part, [_hit(corpus.chunks[0]), _hit(corpus.chunks[1], rank=2)], None)
    score_units(ev, _toy_models())
    text, _ = compose([(ev, Decision("answered", 0.9, {"answered": 0.9}))])
    assert "一百元以上五百元以下" in text and text.count("五万元以上五十万元以下") == 1, text


def test_a_year_is_not_a_quantity():
    """"设置2021年主要目标如下" does not state a figure; a rate, a fine or a period does."""
    assert not VOCAB.states("number", "设置2021年主要目标如下")
    assert not VOCAB.states("number", "到1990年以前建成")
    for s in ("综合利用率达到90%", "处10日以上15日以下拘留", "原始记录至少保存5年", "排放总量削减12.5万吨"):
        assert VOCAB.states("number", s), s


def test_a_day_of_the_month_is_a_date_not_a_quantity():
    assert not VOCAB.states("number", "2021年12月24日全国人民代表大会常务委员会会议通过")
    assert VOCAB.states("date", "每年6月5日为环境日") and VOCAB.states("date", "本法自2018年1月1日起施行")
    assert not VOCAB.states("date", "对本条例施行前建立的地方碳排放权交易市场")  # 施行 alone is no date
    assert VOCAB.states("number", "禁止在长江干支流岸线一公里范围内新建化工项目")
    assert VOCAB.states("who", "孔海南:上海交通大学河湖环境技术开发中心主任")
    assert VOCAB.states("who", "国务院财政部门制定重点生态功能区转移支付管理办法")
    # a time of day answers "几点": asked as a time, stated as one
    assert VOCAB.answer_type("工作日几点以后不能装修？") == "when"
    assert VOCAB.states("date", "“夜间”是指晚上十点至次日早晨六点之间的期间")
    assert not VOCAB.states("date", "应当按照规定限定作业时间")


def test_a_quantity_asked_with_its_measure_needs_that_measure():
    assert VOCAB.asked_units("到底养多少头猪才算规模养殖场？") == ("头",)
    assert VOCAB.asked_units("信息变动多少天内要更新？") == ("日", "天")
    assert VOCAB.asked_units("PM2.5年均浓度目标是多少？") == ()
    assert not VOCAB.states_units(("头",), "可以处10万元以下的罚款")
    assert VOCAB.states_units(("日", "天"), "应当自发生变动之日起20日内进行变更")
    assert VOCAB.states_units(("元",), "处每平方米五百元以上二千元以下罚款")
    assert VOCAB.states_units((), "任何句子")
    # the quantity named by what it measures: money
    assert VOCAB.asked_units("应急物资库的建设资金是多少？") == ("元",)
    assert not VOCAB.states_units(("元",), "加快推进四个化工园区应急物资区域库的建设")


def test_each_part_has_its_own_focus():
    text = "我在湖边长大，以前靠打鱼过日子。退捕渔民的补偿有没有规定？另外我想在湖汊里养点外来品种的鱼，行不行？"
    context, parts, focus = split_parts(text, VOCAB)
    assert len(parts) == 2 and parts[1] == "行不行？"
    assert focus[1] == "另外我想在湖汊里养点外来品种的鱼，行不行？"   # not the fishing story
    assert focus[0].startswith("我在湖边长大")                          # the first part keeps the situation


def test_a_question_goes_on_over_a_semicolon():
    text = "想问两件事：一是排放强度要比上年降低多少；二是没有报送年度排放报告会被罚多少钱？"
    _, parts, _ = split_parts(text, VOCAB)
    assert len(parts) == 2 and "降低多少" in parts[0]


def test_part_terms_weigh_the_focus_over_the_context(analyser):
    q = analyser.analyse("我在湖边长大，以前靠打鱼过日子。退捕渔民的补偿有没有规定？另外我想在湖里投放外来物种，行不行？")
    second = {t.text: t.idf for t in q.parts[1].terms}
    first = {t.text: t.idf for t in q.parts[0].terms}
    shared = [w for w in second if w in first and w in "外来物种"]
    assert shared and all(second[w] > first[w] for w in shared)
