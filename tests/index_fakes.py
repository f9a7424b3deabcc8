"""Small hand-made corpora, a fake embedder and a fake tokenizer for fast index tests."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from policy_assistant.corpus.ingest import CorpusResult
from policy_assistant.corpus.model import Chunk, Document, sha256_text


class FakeEmbedder:
    """Hashed character-bigram vectors (normalised): similar texts get similar vectors. Counts calls."""

    def __init__(self, name: str = "fake", dim: int = 64):
        self.name = name
        self.dim = dim
        self.passages_embedded = 0
        self.queries_embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        text = re.sub(r"\s+", "", text.lower())
        for a, b in zip(text, text[1:] + " ", strict=True):
            h = int.from_bytes(hashlib.blake2b((a + b).encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts):
        self.queries_embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts):
        self.passages_embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def fake_tokenizer_factory(domain_terms):
    """CJK characters and lower-cased ASCII words (stand-in for jieba)."""

    def tokenize(text: str) -> list[str]:
        return re.findall(r"[\u3400-\u9fff]|[a-z0-9]+", text.lower())

    return tokenize


def make_corpus(docs: dict[str, tuple[str, list[tuple[str, str]]]]) -> CorpusResult:
    """``{doc_id: (doc_type, [(label, text), …])}`` → a corpus with one chunk per (label, text)."""
    documents, chunks = [], []
    for doc_id, (doc_type, units) in docs.items():
        title = f"{doc_id}条例" if doc_type != "工作要点" else f"{doc_id}工作要点"
        body = "\n".join(t for _, t in units)
        documents.append(Document(doc_id=doc_id, title=title, file=f"{doc_id}.md", source_path=f"/x/{doc_id}.md",
                                  doc_type=doc_type, content_hash=sha256_text(body)))
        for i, (label, text) in enumerate(units):
            chunks.append(Chunk(chunk_id=f"{doc_id}#{i}", doc_id=doc_id, doc_title=title, file=f"{doc_id}.md",
                                doc_type=doc_type, path=(label,), text=text, position=i, kind="article"))
    return CorpusResult(documents, chunks, domain_terms=["排污许可"])


SAMPLE = {
    "alpha": ("法律", [("第一条", "排污单位应当依法申请取得排污许可证。"),
                      ("第二条", "禁止向水体排放油类、酸液、碱液或者剧毒废液。"),
                      ("第三条", "国家建立生态保护补偿制度，加大财政转移支付力度。")]),
    "beta": ("工作要点", [("1.", "全市森林覆盖率稳定在百分之六十以上。"),
                        ("2.", "开展黑臭水体整治，巩固城市黑臭水体治理成效。"),
                        ("3.", "推进碳排放权交易市场建设。")]),
}
