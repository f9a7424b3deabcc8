"""Count hand-written vocabulary entries in code (issue 12: "vocabulary is data").

    .venv/bin/python benchmarks/count_hand_entries.py [FILES…]   (default: answer/, retrieval/, corpus/, index/)

An entry is a Chinese or English word/phrase written in code as data: each string element of a list,
tuple, set or dict literal; each word of a ``"… … …".split()`` string; each ``|`` alternative of a
regular-expression string that contains CJK characters. Docstrings, messages and f-strings are skipped.
Also prints the entries of the vocabulary data file (vocabulary.toml), which is where they belong.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u9fff]")


def _alternatives(s: str) -> int:
    if "|" in s and CJK.search(s):
        return len([a for a in re.split(r"(?<!\\)\|", s) if CJK.search(a)])
    return 0


def count_file(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    n = 0
    seen: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split" \
                and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str) \
                and not node.args and CJK.search(node.func.value.value):
            n += len(node.func.value.value.split())
            seen.add(id(node.func.value))
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            for e in node.elts:
                if isinstance(e, ast.Constant) and isinstance(e.value, str) and CJK.search(e.value):
                    n += max(1, _alternatives(e.value))
                    seen.add(id(e))
        elif isinstance(node, ast.Dict):
            for k in node.keys:
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and (CJK.search(k.value) or
                                                                                 re.fullmatch(r"[a-z][a-z0-9 .\-]+", k.value)):
                    n += 1
                    seen.add(id(k))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("compile", "search", "match", "sub",
                                                                            "findall", "split", "fullmatch"):
            for a in node.args[:1]:
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and id(a) not in seen:
                    n += _alternatives(a.value)
    return n


def count_toml(path: Path) -> int:
    """Leaf entries of the data file: list items, and keys of tables whose values are lists or strings."""

    def walk(x) -> int:
        if isinstance(x, dict):
            return sum(walk(v) if isinstance(v, dict | list) else 1 for v in x.values())
        if isinstance(x, list):
            return sum(walk(v) if isinstance(v, dict | list) else 1 for v in x)
        return 1

    return walk(tomllib.loads(path.read_text(encoding="utf-8")))


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted(p for d in ("answer", "retrieval", "corpus", "index")
                                            for p in (ROOT / d).glob("*.py"))
    total = 0
    for f in files:
        n = count_file(f)
        if n:
            print(f"{n:5d}  {f.relative_to(ROOT) if f.is_absolute() else f}")
        total += n
    print(f"{total:5d}  total in code")
    vocab = ROOT / "corpus" / "vocabulary.toml"
    if vocab.is_file():
        print(f"{count_toml(vocab):5d}  entries in {vocab.name} (data)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
