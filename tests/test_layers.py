"""Layering contract (issue 11): lower layers never import higher ones.

    core → corpus → index → retrieval → answer → (eval, training) → (cli, app, api)

``prompts`` holds templates and sits on the floor with ``core``. Packages on the same level do not
import each other, except the two front ends (the CLI's ``app`` command preloads the app's cache).
The check reads every module's imports with ``ast`` (also imports inside functions), so a lazy
import cannot sneak past it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import policy_assistant

LEVEL = {
    "core": 0, "prompts": 0,
    "corpus": 1,
    "index": 2,
    "retrieval": 3,
    "answer": 4,
    "eval": 5, "training": 5,
    "cli": 6, "app_pages": 6, "api": 6, "__main__": 6,
}
FRONT_ENDS = {"cli", "app_pages", "api", "__main__"}


def _package_dirs() -> dict[str, Path]:
    """Subpackage name → its folder, as installed (the design-card folders map into the namespace)."""
    import importlib

    out = {}
    for name in LEVEL:
        if name == "__main__":
            continue
        mod = importlib.import_module(f"policy_assistant.{name}")
        out[name] = Path(mod.__path__[0])
    return out


def _modules() -> list[tuple[str, Path]]:
    mods = []
    for name, folder in _package_dirs().items():
        mods += [(name, p) for p in sorted(folder.rglob("*.py"))]
    mods.append(("__main__", Path(policy_assistant.__file__).parent / "__main__.py"))
    return mods


def _imported(path: Path) -> set[str]:
    """The policy_assistant subpackages a module imports (absolute imports; relative ones stay inside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for n in names:
            parts = n.split(".")
            if parts[0] == "policy_assistant" and len(parts) > 1 and parts[1] in LEVEL:
                out.add(parts[1])
    return out


def _violations() -> list[str]:
    bad = []
    for pkg, path in _modules():
        for target in _imported(path):
            if target == pkg:
                continue
            lo, hi = LEVEL[target], LEVEL[pkg]
            if lo < hi or (lo == hi and pkg in FRONT_ENDS and target in FRONT_ENDS):
                continue
            bad.append(f"{path.name} ({pkg}, level {hi}) imports {target} (level {lo})")
    return bad


def test_lower_layers_never_import_higher_ones():
    assert _violations() == []


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The contract can fail: a corpus module importing the answer layer is reported."""
    fake = tmp_path / "bad.py"
    fake.write_text("def f():\n    from policy_assistant.answer.engine import Assistant\n", encoding="utf-8")
    assert _imported(fake) == {"answer"}
    monkeypatch.setattr(__import__(__name__), "_modules", lambda: [("corpus", fake)])
    assert _violations() and "imports answer" in _violations()[0]


def test_no_generic_top_level_packages_are_importable():
    """Only policy_assistant is installed: `import corpus` / `import eval` must not find our code."""
    import importlib.util

    for name in ("corpus", "index", "retrieval", "answer", "prompts", "training", "app_pages"):
        spec = importlib.util.find_spec(name)
        assert spec is None, f"a top-level package {name!r} is importable from {spec.origin}"


@pytest.mark.parametrize("pkg", ["core"])
def test_core_imports_nothing_of_the_project(pkg):
    for name, path in _modules():
        if name == pkg:
            assert _imported(path) <= {"core"}, path


def test_no_sys_path_patching_in_the_package_or_tests():
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for folder in [*(_package_dirs().values()), Path(policy_assistant.__file__).parent, root / "tests"]:
        for p in folder.rglob("*.py"):
            text = p.read_text(encoding="utf-8")
            if "sys.path.insert" in text.replace("\"sys.path.insert\"", "") and p.name != "test_layers.py":
                offenders.append(str(p))
    assert offenders == []


# --------------------------------------------------------------------------- plain data below the front ends

BELOW_FRONT_ENDS = ("core", "corpus", "index", "retrieval", "answer", "eval", "training")
_URL_ROUTE = re.compile(r"\b[a-z_]+\?[a-z_]+=|[?&](doc|section|chunk|q)=")
_HTML_TAG = re.compile(r"<(mark|span|div|br|b)\b")
_ESCAPERS = {"escape_html", "html_text", "highlight_html", "mark_spans_html", "markupsafe", "urlencode"}


def _front_end_knowledge(path: Path) -> list[str]:
    """What a library module must not contain: URL routes of the app, HTML markup, an HTML escaper."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _URL_ROUTE.search(node.value) or _HTML_TAG.search(node.value):
                found.append(f"string {node.value[:40]!r}")
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in _ESCAPERS or name in {"READER_URL_PATH", "url_path"}:
                found.append(f"name {name}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and (node.value.id, node.attr) == ("html", "escape"):
                found.append("html.escape")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            mods = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            names = {a.name for a in node.names}
            if any(m.startswith(("markupsafe", "policy_assistant.app_pages")) for m in mods) or names & _ESCAPERS \
                    or (mods == ["html"] and "escape" in names):
                found.append(f"import {', '.join(mods)}: {', '.join(sorted(names))}")
        elif isinstance(node, ast.FunctionDef) and node.name in _ESCAPERS:
            found.append(f"def {node.name}")
    return [f"{path.name}: {f}" for f in found]


def _library_offenders(modules) -> list[str]:
    return [f for pkg, path in modules if pkg in BELOW_FRONT_ENDS for f in _front_end_knowledge(path)]


def test_no_url_route_or_html_escaper_below_the_front_ends():
    """Links and HTML belong to app_pages; the library returns plain text and spans (issue 11)."""
    assert _library_offenders(_modules()) == []


def test_the_front_end_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('from policy_assistant.app_pages.text import escape_html\nimport html\n'
                   'LINK = "reader?doc=x"\nX = html.escape("<")\n'
                   'def highlight_html(t):\n    return f"<mark>{t}</mark>"\n', encoding="utf-8")
    found = "\n".join(_library_offenders([("training", bad)]))
    for what in ("import policy_assistant.app_pages.text", "reader?doc=x", "html.escape", "def highlight_html",
                 "<mark>"):
        assert what in found, (what, found)
    assert _library_offenders([("app_pages", bad)]) == []
