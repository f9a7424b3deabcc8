"""The printed table, the target check and the report files (Markdown + JSON + PNG charts).

Files for a run on day D, in the report folder:
    D-<config>.md / D-<config>.json      one per configuration: table, targets, confusion matrix,
                                         per-category metrics and bars, every failure with its passages
    D-<config>-categories.png            per-category bars of that configuration
    D-comparison.png / D-summary.json    metrics per configuration side by side; the ``--json`` summary
"""

from __future__ import annotations

import json
from pathlib import Path

from policy_assistant.eval.metrics import HIGHER_IS_BETTER

TABLE_COLUMNS = (
    ("recall@1", "R@1"), ("recall@3", "R@3"), ("recall@5", "R@5"), ("recall@10", "R@10"), ("mrr", "MRR"),
    ("status", "status"), ("facts", "facts"), ("citation_precision", "citeP"), ("citation_recall", "citeR"),
    ("correct", "correct"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
)
# Targets for the default pipeline on the full gold set (issue 6); it must also beat every baseline on them.
TARGETS = {"recall@5": 0.95, "mrr": 0.85, "facts": 0.90, "status": 0.90}
CHART_METRICS = ("recall@5", "mrr", "status", "facts", "citation_precision", "citation_recall", "correct")


def _fmt(key: str, v) -> str:
    if v is None:
        return "—"
    if key.endswith("_ms"):
        return f"{v:.0f}"
    return f"{v:.3f}"


def format_table(run) -> str:
    """One plain-text table, a row per configuration (the default first-class, marked with *)."""
    header = ["config", "n", *(label for _, label in TABLE_COLUMNS)]
    rows = []
    for r in run.runs:
        mark = "*" if r.config.name == run.default_name else ""
        rows.append([r.config.name + mark, str(r.summary["n"]), *(_fmt(k, r.summary.get(k)) for k, _ in TABLE_COLUMNS)])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    return "\n".join(out)


def markdown_table(run) -> str:
    header = ["config", "n", *(label for _, label in TABLE_COLUMNS)]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in run.runs:
        name = f"**{r.config.name}**" if r.config.name == run.default_name else r.config.name
        out.append("| " + " | ".join([name, str(r.summary["n"]),
                                      *(_fmt(k, r.summary.get(k)) for k, _ in TABLE_COLUMNS)]) + " |")
    return "\n".join(out)


def check_targets(run) -> list[dict]:
    """Absolute targets for the default configuration, and "strictly better than each baseline"."""
    if not any(r.config.name == run.default_name for r in run.runs):
        return []
    d = run.get(run.default_name).summary
    checks = []
    for metric, target in TARGETS.items():
        v = d.get(metric)
        checks.append({"check": f"{metric} ≥ {target}", "value": v, "ok": v is not None and v >= target})
        for r in run.runs:
            if not r.config.baseline:
                continue
            b = r.summary.get(metric)
            ok = v is not None and (b is None or v > b)
            checks.append({"check": f"{metric} > {r.config.name}", "value": v, "other": b, "ok": ok})
    return checks


def parse_fail_under(specs: list[str]) -> dict[str, float]:
    """``["recall@5=0.9", "facts=0.8"]`` → dict; raises ValueError naming a bad entry."""
    known = {k for k, _ in TABLE_COLUMNS}
    out = {}
    for spec in specs or []:
        for part in spec.split(","):
            if not part.strip():
                continue
            metric, sep, value = part.partition("=")
            metric = metric.strip()
            if not sep or metric not in known:
                raise ValueError(f"bad --fail-under {part!r}: use METRIC=VALUE with METRIC one of {', '.join(sorted(known))}")
            try:
                out[metric] = float(value)
            except ValueError as exc:
                raise ValueError(f"bad --fail-under {part!r}: {value!r} is not a number") from exc
    return out


def fail_under_violations(summary: dict, thresholds: dict[str, float]) -> list[str]:
    """Messages for every metric below its threshold (above, for latencies)."""
    msgs = []
    for metric, limit in thresholds.items():
        v = summary.get(metric)
        if metric in HIGHER_IS_BETTER:
            bad = v is None or v < limit
            rel = "<"
        else:
            bad = v is None or v > limit
            rel = ">"
        if bad:
            shown = "none" if v is None else f"{v:.4g}"
            msgs.append(f"{metric} = {shown} {rel} {limit:g} (--fail-under {metric}={limit:g})")
    return msgs


# --------------------------------------------------------------------------------------------------
# Charts


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def comparison_chart(run, path: Path) -> Path:
    plt = _plt()
    import numpy as np

    names = [r.config.name for r in run.runs]
    x = np.arange(len(CHART_METRICS))
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(CHART_METRICS)), 4.5))
    for i, r in enumerate(run.runs):
        vals = [r.summary.get(m) or 0.0 for m in CHART_METRICS]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, vals, width, label=r.config.name)
    ax.set_xticks(x, CHART_METRICS, rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Metrics per configuration ({run.n} questions, {run.date})")
    ax.legend(fontsize=8, ncol=min(4, len(names)))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def category_chart(cr, path: Path) -> Path:
    plt = _plt()
    import numpy as np

    cats = list(cr.categories)
    metrics = ("recall@5", "status", "facts", "correct")
    x = np.arange(len(cats))
    width = 0.2
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(cats)), 4.5))
    for i, m in enumerate(metrics):
        vals = [cr.categories[c].get(m) or 0.0 for c in cats]
        ax.bar(x + (i - 1.5) * width, vals, width, label=m)
    ax.set_xticks(x, [f"{c}\n(n={cr.categories[c]['n']})" for c in cats], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{cr.config.name}: metrics per category")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------------------
# Markdown


def _clip(text: str, n: int = 160) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "…"


def failure_reasons(r) -> list[str]:
    why = []
    if r.error:
        why.append(r.error)
    if not r.status_ok:
        why.append(f"status {r.got_status} ≠ {r.expected_status}")
    if r.facts_expected and not r.facts_ok:
        why.append("missing facts: " + ", ".join(r.missing))
    if r.source_in_index is False:
        why.append("no indexed passage matches the gold source (gold item or chunking problem)")
    elif r.has_sources and (r.rank is None or r.rank > 5):
        why.append("expected source not retrieved in top 5" + (f" (rank {r.rank})" if r.rank else ""))
    if r.has_sources and r.expected_status == "answered" and not r.cited_source:
        why.append("expected source not cited")
    return why


def is_failure(r) -> bool:
    return bool(failure_reasons(r))


def _failures_md(cr) -> list[str]:
    out = []
    for r in cr.results:
        why = failure_reasons(r)
        if not why:
            continue
        out += [f"### `{r.id}` ({r.category})", "", f"- **question**: {r.q}", f"- **expected**: {r.expected}",
                f"- **got**: {r.got_status} — {_clip(r.answer, 300)}", f"- **why**: {'; '.join(why)}",
                f"- **retrieval rank of expected source**: {r.rank or 'not in top 10'}; top retrieved: "
                + " | ".join(_clip(s, 60) for s in r.retrieved[:3])]
        for c in r.citations:
            flags = ", ".join(f for f, on in (("source", c.matches_source), ("fact", c.has_fact),
                                              ("near miss", c.near_miss)) if on) or "no match"
            out.append(f"  - [{c.n}] {c.section} ({flags}): {_clip(c.text)}")
        out.append("")
    return out or ["No failures."]


def config_markdown(run, cr, chart_name: str | None) -> str:
    s = cr.summary
    lines = [f"# Eval {run.date}: `{cr.config.name}`", "",
             f"{cr.config.description}.", "",
             f"Gold set: {run.gold_path or 'eval/gold.jsonl'} — {run.n} questions (subset: {run.subset}). "
             f"Index: {cr.index.get('chunking')} chunks ({cr.index.get('n_chunks')}), "
             f"`{cr.index.get('index_dir')}`. Run time {cr.seconds:.1f} s.", "",
             "## All configurations in this run", "", markdown_table(run), ""]
    if cr.config.name == run.default_name:
        checks = check_targets(run)
        if checks:
            lines += ["## Targets", "", "| check | value | baseline | ok |", "|---|---|---|---|"]
            for c in checks:
                lines.append(f"| {c['check']} | {_fmt('', c['value'])} | {_fmt('', c.get('other'))} | "
                             f"{'yes' if c['ok'] else '**no**'} |")
            lines.append("")
    lines += ["## Status confusion matrix (rows: expected, columns: got)", ""]
    cols = list(next(iter(cr.confusion.values())).keys())
    lines += ["| expected \\ got | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for e, row in cr.confusion.items():
        lines.append(f"| {e} | " + " | ".join(str(row[c]) for c in cols) + " |")
    lines += ["", "## Per category", "", "| category | n | R@5 | MRR | status | facts | citeP | citeR | correct |",
              "|---|---|---|---|---|---|---|---|---|"]
    for cat, m in cr.categories.items():
        lines.append(f"| {cat} | {m['n']} | " + " | ".join(_fmt(k, m.get(k)) for k in (
            "recall@5", "mrr", "status", "facts", "citation_precision", "citation_recall", "correct")) + " |")
    if chart_name:
        lines += ["", f"![per-category metrics]({chart_name})"]
    n_fail = sum(1 for r in cr.results if is_failure(r))
    lines += ["", f"## Failures ({n_fail} of {len(cr.results)})", "",
              f"p50 {_fmt('p50_ms', s.get('p50_ms'))} ms, p95 {_fmt('p95_ms', s.get('p95_ms'))} ms.", ""]
    lines += _failures_md(cr)
    return "\n".join(lines) + "\n"


def write_reports(run, report_dir: Path, charts: bool = True) -> list[Path]:
    """Write every report file of ``run``; returns the paths written."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    stem = run.date
    if charts and run.runs:
        written.append(comparison_chart(run, report_dir / f"{stem}-comparison.png"))
    summary = {**run.summary_json(), "date": run.date, "subset": run.subset, "gold": run.gold_path,
               "targets": check_targets(run)}
    p = report_dir / f"{stem}-summary.json"
    p.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    written.append(p)
    for cr in run.runs:
        chart = None
        if charts:
            chart = category_chart(cr, report_dir / f"{stem}-{cr.config.name}-categories.png")
            written.append(chart)
        md = report_dir / f"{stem}-{cr.config.name}.md"
        md.write_text(config_markdown(run, cr, chart.name if chart else None), encoding="utf-8")
        js = report_dir / f"{stem}-{cr.config.name}.json"
        js.write_text(json.dumps({"date": run.date, "n": run.n, "subset": run.subset, "gold": run.gold_path,
                                  **cr.to_dict()}, ensure_ascii=False, indent=1), encoding="utf-8")
        written += [md, js]
    return written
