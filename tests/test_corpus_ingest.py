"""Ingest on the real corpus: every document, the work-points structure, law articles, clean text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_assistant.corpus.ingest import load_corpus
from policy_assistant.corpus.model import DOC_TYPE_REGULATION, DOC_TYPE_WORK_POINTS

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
WP = "衡阳市2021年生态环境保护工作要点"
CHROME = re.compile(r"当前位置|首页|友情链接|主办|ICP|公网安备|联系电话|网站地图|网站标识码|2892828|421001|技术支持")


@pytest.fixture(scope="module")
def corpus(real_corpus):
    return real_corpus


def wp_chunks(corpus):
    return corpus.chunks_for(corpus.find_document(WP).doc_id)


def test_all_twenty_documents_ingest(corpus):
    assert len(corpus.documents) == 20
    assert corpus.warnings == []
    assert all(corpus.chunks_for(d.doc_id) for d in corpus.documents)
    titles = {d.title for d in corpus.documents}
    assert {"中华人民共和国环境保护法", WP, "排污许可管理条例", "碳排放权交易管理暂行条例", "生态保护补偿条例"} <= titles


def test_no_chunk_contains_web_chrome_or_zero_width(corpus):
    for c in corpus.chunks:
        assert not CHROME.search(c.text), c.section
        assert "\u200b" not in c.text and "\u3000" not in c.text


def test_work_points_top_level_sections_in_order(corpus):
    doc = corpus.find_document(WP)
    headings = [s.heading for s in doc.root.children]
    main = [h for h in headings if re.match(r"^[一二三四五六七八九十]+、", h)]
    assert main == ["一、总体思路", "二、主要目标", "三、主要任务"]  # 、主要任务 restored as 三、
    assert headings.index("三、主要任务") < headings.index("附件1") < headings.index("附件2 生态环境保护首批专家工作室")
    assert any("、主要任务" in w for w in doc.warnings)


def test_work_points_twelve_task_groups_and_45_items(corpus):
    doc = corpus.find_document(WP)
    tasks = next(s for s in doc.root.children if s.heading == "三、主要任务")
    groups = [g.label for g in tasks.children]
    assert groups == [f"（{n}）" for n in "一二三四五六七八九十"] + ["（十一）", "（十二）"]
    items = [c.path[-1] for c in wp_chunks(corpus) if c.path[0] == "三、主要任务" and c.part == 0]
    assert items == [f"{i}." for i in range(1, 46)]


def test_work_points_six_targets(corpus):
    targets = [c for c in wp_chunks(corpus) if c.path[0] == "二、主要目标" and c.kind == "target"]
    assert [c.path[-1] for c in targets] == [
        "（一）空气环境质量", "（二）水环境质量", "（三）土壤环境质量",
        "（四）污染物排放总量控制", "（五）碳排放控制", "（六）生态功能",
    ]
    assert "39ug/m3" in targets[0].text and "47.7%" in targets[5].text


def test_work_points_attachments(corpus):
    chunks = wp_chunks(corpus)
    demo = [c for c in chunks if c.path[:2] == ("附件1", '"七大示范工程"')]
    actions = [c for c in chunks if c.path[:2] == ("附件1", '"八大攻坚行动"')]
    assert len(demo) == 7 and len(actions) == 8
    assert actions[0].text == "1.铊污染专项治理攻坚行动"
    studios = [c for c in chunks if c.path[0].startswith("附件2")]
    assert [c.path[-1] for c in studios] == ["1.王浩院士工作室", "2.孔海南教授工作室"]
    assert "研究方向" not in studios[0].text or "二元水循环" in studios[0].text


def test_breadcrumb_examples_from_the_issue(corpus):
    sections = {c.section for c in corpus.chunks}
    assert f"{WP} › 三、主要任务 › （五）持续推进突出生态环境问题整改 › 19." in sections
    assert "排污许可管理条例 › 第二章 申请与审批 › 第十四条" in sections


@pytest.mark.parametrize(
    "file_part,articles",
    [("环境保护法(2014", 70), ("排污许可管理条例", 51), ("碳排放权交易", 33), ("生态保护补偿条例", 33),
     ("长江保护法", 79), ("最高人民法院", 20), ("土壤污染防治法", 99)],
)
def test_every_article_is_its_own_chunk(corpus, file_part, articles):
    doc = next(d for d in corpus.documents if file_part in d.file)
    labels = [c.path[-1] for c in corpus.chunks_for(doc.doc_id) if c.kind == "article" and c.part == 0]
    assert len(labels) == articles
    assert len(set(labels)) == articles
    assert all(re.fullmatch(r"第[一二三四五六七八九十百零]+条", label) for label in labels)


def test_chapters_in_law_breadcrumbs(corpus):
    doc = next(d for d in corpus.documents if d.file.startswith("土壤污染防治法"))
    paths = {c.path[:-1] for c in corpus.chunks_for(doc.doc_id)}
    assert ("第四章 风险管控和修复", "第二节 农用地") in paths
    noise = next(d for d in corpus.documents if d.file.startswith("噪声"))
    assert corpus.chunks_for(noise.doc_id)[1].path[0] == "第一章 总则"  # full-width spaces squeezed


def test_docx_pdf_gbk_give_article_chunks_with_clean_text(corpus):
    pdf = next(d for d in corpus.documents if d.file.endswith(".pdf"))
    first = corpus.chunks_for(pdf.doc_id)[0]  # no date block in the PDF: no 文件信息 chunk
    assert first.text.startswith("第一条 为了规范碳排放权交易")
    assert "经济社会绿色低碳发展" in first.text  # hard-wrapped line joined without a space
    gbk = next(d for d in corpus.documents if d.file.startswith("生态保护补偿条例"))
    assert gbk.doc_type == DOC_TYPE_REGULATION and "decoded as gb18030" in gbk.warnings
    assert corpus.chunks_for(gbk.doc_id)[0].path == ("第一章 总则", "第一条")


def test_date_block_is_a_citable_chunk(corpus):
    permit = corpus.chunks_for(corpus.find_document("排污许可管理条例").doc_id)[0]
    assert permit.path == ("文件信息",) and permit.kind == "meta"
    assert "2020年12月9日 国务院第117次常务会议通过" in permit.text
    wp = corpus.chunks_for(corpus.find_document(WP).doc_id)[0]
    assert "发布时间:2021-07-26" in wp.text


def test_document_metadata(corpus):
    wp = corpus.find_document(WP)
    assert wp.doc_type == DOC_TYPE_WORK_POINTS
    assert wp.dates == {"发布": "2021-07-26"} and wp.issuer == "衡阳市生态环境局"
    permit = corpus.find_document("排污许可管理条例")
    assert permit.dates == {"通过": "2020-12-09", "公布": "2021-01-24", "施行": "2021-03-01"}
    epl = corpus.find_document("环境保护法")
    assert epl.dates["修订"] == "2014-04-24" and epl.issuer == "全国人民代表大会常务委员会"
    assert len(epl.content_hash) == 64


def test_ids_are_stable_and_unique(corpus):
    again = load_corpus([CORPUS])
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in corpus.chunks]
    assert len({c.chunk_id for c in corpus.chunks}) == len(corpus.chunks)
    assert [d.content_hash for d in again.documents] == [d.content_hash for d in corpus.documents]


def test_long_units_split_at_sentence_ends_under_the_cap(corpus):
    long_parts = [c for c in corpus.chunks if c.n_parts > 1]
    assert long_parts
    for c in corpus.chunks:
        assert len(c.text) <= 420
    for c in long_parts:
        if c.part < c.n_parts - 1:
            assert c.text[-1] in "。；！？;!?”\"", c.section
