"""Which laws of the scale corpus the synthetic training data is made from, and reading them.

The "index laws" play the role of the project's documents (questions are answered or not specified
there); the "foreign laws" supply questions whose subject the index laws never mention (not_found).
Neither may be a document of the default corpus: training data must not be the project's own documents.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from policy_assistant.core.errors import CorpusError, StorageError, os_error_fix
from policy_assistant.corpus.chunking import chunk_document
from policy_assistant.corpus.ingest import read_document
from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.text import decode_bytes

INDEX_FOLDERS = ("行政法", "经济法", "行政法规")
FOREIGN_FOLDERS = ("民法商法", "社会法", "刑法", "诉讼与非诉讼程序法", "宪法相关法", "民法典")

# Topic words that mark environmental, natural-resource and administrative-enforcement laws (preferred,
# not required: about a third of the index laws come from the rest).
TOPIC_WORDS = (
    "环境", "污染", "生态", "资源", "森林", "草原", "湿地", "水", "海", "土地", "矿", "渔业", "野生", "动物",
    "植物", "能源", "节约", "气象", "防沙", "防洪", "地质", "测绘", "城乡", "规划", "安全", "卫生", "检疫",
    "食品", "药品", "农产品", "种子", "农药", "畜牧", "防疫", "消防", "道路", "航道", "港口", "建筑", "监督",
    "管理", "计量", "标准", "统计", "许可", "处罚",
)
PREFERRED_SHARE = 2 / 3

_DATE_SUFFIX = re.compile(r"\((\d{4}-\d{2}-\d{2})\)$")
_ARTICLE_LINE = re.compile(r"^\s*第[一二三四五六七八九十百千零〇两]+条", re.M)
_LIABILITY_CHAPTER = re.compile(r"^#+\s*第[一二三四五六七八九十]+章\s*法律责任", re.M)
_SUBJECT_SUFFIX = re.compile(r"(?:实施细则|实施条例|暂行条例|条例|规定|办法|细则|法)$")
# Words too general to mark a law's subject (a foreign law whose subject is "管理" differs from nothing).
_GENERIC_SUBJECTS = {"", "管理", "保护", "促进", "保障", "权益保障", "组织", "程序"}


def base_title(name: str) -> str:
    """The law's name without date and country prefix: ``森林法(2019-12-28)`` → ``森林法``,
    ``中华人民共和国森林法`` → ``森林法``."""
    stem = Path(name).stem if name.endswith((".md", ".txt", ".docx", ".pdf")) else name
    return _DATE_SUFFIX.sub("", stem.strip()).removeprefix("中华人民共和国").strip()


def law_subject(title: str) -> str:
    """The subject words of a law's name: ``土地管理法`` → ``土地管理``, ``劳动合同法`` → ``劳动合同``."""
    return _SUBJECT_SUFFIX.sub("", base_title(title))


def _version_date(path: Path) -> str:
    m = _DATE_SUFFIX.search(path.stem)
    return m.group(1) if m else ""


def newest_versions(paths: list[Path]) -> list[Path]:
    """One file per base title: the one with the latest date in its name (an undated file counts as oldest)."""
    best: dict[str, Path] = {}
    for p in sorted(paths):
        key = base_title(p.name)
        if key not in best or _version_date(p) > _version_date(best[key]):
            best[key] = p
    return sorted(best.values())


@dataclass(frozen=True)
class LawStats:
    """What selection needs to know about one file, read from its text."""

    path: Path
    title: str
    articles: int
    liability: bool  # a 法律责任 chapter or articles with 罚款
    fines: int
    topic: int


def law_stats(path: Path) -> LawStats:
    """Article count, liability chapter and topic score of one scale-corpus file."""
    try:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, _ = decode_bytes(data)
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}", os_error_fix(exc, str(path))) from exc
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not UTF-8 or GB18030 text", "remove the file from the scale corpus") from exc
    title = base_title(path.name)
    fines = text.count("罚款")
    return LawStats(
        path=path,
        title=title,
        articles=len(_ARTICLE_LINE.findall(text)),
        liability=bool(_LIABILITY_CHAPTER.search(text)) or fines > 0,
        fines=fines,
        topic=sum(1 for w in TOPIC_WORDS if w in title),
    )


def _files(scale_dir: Path, folders: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        d = scale_dir / folder
        if d.is_dir():
            out += [p for p in sorted(d.iterdir()) if p.suffix == ".md" and not p.name.startswith(".")]
    return out


def _check_scale_dir(scale_dir: Path) -> None:
    if not scale_dir.is_dir():
        raise CorpusError(f"scale corpus folder {scale_dir} does not exist",
                          "set scale_corpus_dir in policy-assistant.toml or pass --scale-dir")
    if not any((scale_dir / f).is_dir() for f in INDEX_FOLDERS):
        raise CorpusError(f"{scale_dir} has none of the folders {', '.join(INDEX_FOLDERS)}",
                          "point --scale-dir at the scale corpus (../shared/scale-corpus)")


def select_laws(scale_dir: Path, exclude_titles: set[str], n_index: int = 60, n_foreign: int = 200,
                seed: int = 7, min_articles: int = 30, max_articles: int = 120,
                min_foreign_articles: int = 10) -> tuple[list[Path], list[Path]]:
    """The index laws and the foreign laws (both sorted lists of files; deterministic for ``seed``).

    Index laws: newest versions from 行政法/经济法/行政法规 with a liability chapter (or fines) and
    ``min_articles``–``max_articles`` articles, about two thirds with environmental, resource or
    enforcement topics (:data:`TOPIC_WORDS` in the title, or many fines) and the rest from the others.
    Foreign laws: newest versions from the civil, social, criminal, procedural and constitutional
    folders with at least ``min_foreign_articles`` articles (no amendment acts) whose subject words
    differ from every index law's. Every law whose base title is in
    ``exclude_titles`` (compared by :func:`base_title`) is left out of both.
    """
    scale_dir = Path(scale_dir)
    _check_scale_dir(scale_dir)
    excluded = {base_title(t) for t in exclude_titles}
    rng = random.Random(seed)

    candidates = [law_stats(p) for p in newest_versions(_files(scale_dir, INDEX_FOLDERS))
                  if base_title(p.name) not in excluded]
    eligible = [s for s in candidates if s.liability and min_articles <= s.articles <= max_articles]
    preferred = [s for s in eligible if s.topic > 0 or s.fines >= 5]
    others = [s for s in eligible if s not in preferred]
    n_pref = min(len(preferred), round(n_index * PREFERRED_SHARE))
    picked = rng.sample(preferred, n_pref)
    picked += rng.sample(others, min(len(others), n_index - n_pref))
    if len(picked) < n_index:  # too few of the others: fill from the preferred ones
        rest = [s for s in preferred if s not in picked]
        picked += rng.sample(rest, min(len(rest), n_index - len(picked)))
    index_titles = {s.title for s in picked}
    index_subjects = {law_subject(s.title) for s in picked} - _GENERIC_SUBJECTS

    def differs(title: str) -> bool:
        subject = law_subject(title)
        if subject in _GENERIC_SUBJECTS:
            return True
        return not any(subject in t or s in title for t in index_titles for s in index_subjects)

    foreign_files = [s.path for s in map(law_stats, newest_versions(_files(scale_dir, FOREIGN_FOLDERS)))
                     if s.title not in excluded | index_titles and s.articles >= min_foreign_articles
                     and "修正案" not in s.title and differs(s.title)]
    foreign = rng.sample(foreign_files, min(len(foreign_files), n_foreign))
    return sorted(s.path for s in picked), sorted(foreign)


def read_laws(paths: list[Path], max_chars: int = 420, overlap: int = 60) -> list[Chunk]:
    """Chunks of the given files, made by the project's own reader and chunker (the same breadcrumbs and
    texts the engine sees). Document ids are the file stems, as in :func:`corpus.ingest.load_corpus`."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for path in paths:
        doc_id = path.stem
        n = 2
        while doc_id in seen:  # same file name in two folders
            doc_id = f"{path.stem}~{n}"
            n += 1
        seen.add(doc_id)
        chunks += chunk_document(read_document(path, doc_id), max_chars, overlap)
    return chunks
