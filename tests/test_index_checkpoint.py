"""A build stopped while embedding goes on where it stopped (index/checkpoint.py), and
``sentence_vectors = false`` builds an index without sentence vectors that still answers searches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import make_settings
from index_fakes import SAMPLE, FakeEmbedder, fake_tokenizer_factory, make_corpus

from policy_assistant.index import store
from policy_assistant.index.build import build_index
from policy_assistant.index.checkpoint import FOLDER, EmbedCheckpoint
from policy_assistant.retrieval.search import HybridRetriever


class Stopped(Exception):
    """Stands in for the build being killed."""


class StopsAfter(FakeEmbedder):
    """Embeds ``n_batches`` batches of passages, then stops the build."""

    def __init__(self, n_batches: int, **kw):
        super().__init__(**kw)
        self.left = n_batches

    def embed_passages(self, texts):
        if self.left <= 0:
            raise Stopped
        self.left -= 1
        return super().embed_passages(texts)


def _build(settings, embedder, **kw):
    return build_index(settings, corpus=make_corpus(SAMPLE), embedder=embedder,
                       tokenizer_factory=fake_tokenizer_factory, **kw)


@pytest.fixture
def settings(tmp_path):
    return dataclasses.replace(make_settings(tmp_path), embed_batch_size=2)


def test_a_stopped_build_resumes_from_its_checkpoint(settings):
    with pytest.raises(Stopped):
        _build(settings, StopsAfter(2))  # two batches of two chunks, then "killed"
    assert (settings.index_dir / FOLDER).is_dir() and not store.has_index(settings.index_dir)
    emb = FakeEmbedder()
    report = _build(settings, emb)
    assert report.n_resumed == 4 and report.n_embedded == 2  # 6 chunks: 4 from the checkpoint
    assert emb.passages_embedded == 2 + report.n_units_embedded
    assert not (settings.index_dir / FOLDER).exists()  # a committed build removes its checkpoint
    stored = store.load_stored(settings.index_dir, "fake", 64)
    for i, c in enumerate(stored.chunks):  # resumed vectors are the embedder's own
        np.testing.assert_allclose(stored.vectors[i], FakeEmbedder()._vec(c.retrieval_text), atol=1e-6)


def test_full_rebuild_and_another_embedder_ignore_the_checkpoint(settings):
    with pytest.raises(Stopped):
        _build(settings, StopsAfter(2))
    report = _build(settings, FakeEmbedder(name="other"))
    assert report.n_resumed == 0 and report.n_embedded == 6
    with pytest.raises(Stopped):
        _build(settings, StopsAfter(1), full=True)
    report = _build(settings, FakeEmbedder(), full=True)
    assert report.n_resumed == 0 and report.n_embedded == 6


def test_a_batch_cut_off_mid_write_is_embedded_again(tmp_path):
    cp = EmbedCheckpoint(tmp_path, "fake", 4)
    cp.start()
    cp.append("embed", ["a", "b"], np.ones((2, 4), np.float32))
    with open(cp.folder / "embed.f32", "ab") as f:  # rows of a third vector written, its hash not
        f.write(np.full(4, 7, np.float32).tobytes()[:10])
    assert set(cp.load("embed")) == {"a", "b"}
    cp.start()  # the next build cuts the stray bytes off, so its own rows line up with their hashes
    cp.append("embed", ["c"], np.full((1, 4), 3, np.float32))
    got = cp.load("embed")
    assert set(got) == {"a", "b", "c"} and got["c"].tolist() == [3, 3, 3, 3] and got["a"].tolist() == [1] * 4


def test_without_sentence_vectors_the_index_has_none_and_searches(settings):
    settings = dataclasses.replace(settings, sentence_vectors=False)
    emb = FakeEmbedder()
    report = _build(settings, emb)
    assert report.n_units == 0 and report.n_units_embedded == 0 and emb.passages_embedded == 6
    r = HybridRetriever.load(settings, embedder=FakeEmbedder(), tokenizer_factory=fake_tokenizer_factory)
    assert r._units is None and r.unit_vectors(r.chunks[0], ["x"]) is None
    assert r.search("排污许可证", k=3)[0].chunk.doc_id == "alpha"


def test_a_checkpoint_that_cannot_be_written_does_not_stop_the_build(settings, monkeypatch):
    """Disk full / read-only while checkpointing: the build goes on (the index write reports storage faults)."""
    real_open = open

    def failing_open(path, mode="r", *a, **kw):
        if FOLDER in str(path) and ("a" in mode or "w" in mode):
            raise OSError(28, "No space left on device")
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr("builtins.open", failing_open)
    report = _build(settings, FakeEmbedder())
    assert report.n_embedded == 6 and store.has_index(settings.index_dir)


def test_a_checkpoint_folder_with_other_files_is_never_deleted(settings):
    """A tool never deletes what it did not create: a `.embed-checkpoint` holding someone's file is left
    alone (and not used); the build still succeeds."""
    folder = settings.index_dir / FOLDER
    _build(settings, FakeEmbedder())  # makes the index folder ours
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    report = _build(settings, FakeEmbedder(), full=True)
    assert report.n_embedded == 6 and (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
