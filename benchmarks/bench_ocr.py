"""OCR benchmark (issue 13): pages/s for a 5-page scanned PDF and the share of characters recovered.

The PDF is made as the tests make theirs (tests/scan_helpers.py): 环境保护法 rendered on A4 pages at
150 dpi with the Noto CJK font, saved without a text layer. Each run ingests it with no OCR cache
(render + OCR + structure); the engine is loaded once before the runs (its load time is printed apart).

Run: nice -n 10 .venv/bin/python benchmarks/bench_ocr.py [--pages 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _scan_helpers():
    """tests/scan_helpers.py, loaded by path (shared with the tests; no sys.path change)."""
    spec = importlib.util.spec_from_file_location("scan_helpers", ROOT / "tests" / "scan_helpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from policy_assistant.corpus import ocr
    from policy_assistant.corpus.ingest import read_document

    sh = _scan_helpers()
    if not sh.NOTO_CJK.is_file():
        raise SystemExit(sh.NOTO_MISSING)
    blocks = sh.fill_to_pages(args.pages)
    pages = sh.render_pages(blocks)
    while len(pages) > args.pages:  # the estimate can overshoot by a page
        blocks = blocks[:-3]
        pages = sh.render_pages(blocks)
    reference = "\n".join(text for _, text in blocks)
    t0 = time.perf_counter()
    ocr.engine()
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        pdf = sh.write_scanned_pdf(pages, Path(tmp) / "scan.pdf")
        times, cpu, shares = [], [], []
        for i in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            doc = read_document(pdf, ocr_cache=None)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            got = "\n".join([doc.title] + [(n.heading if n.kind != "article" else "") + "\n" + n.text
                                           for _p, n in doc.root.walk()])
            shares.append(sh.recovered(reference, got))
            print(f"run {i + 1}: {times[-1]:.1f} s wall, {cpu[-1]:.1f} s CPU, {len(pages) / times[-1]:.3f} pages/s, "
                  f"{shares[-1]:.2%} characters recovered")
    median = statistics.median(times)
    print(f"\n{len(pages)}-page scanned PDF ({len(sh.plain(reference))} characters), engine load {load_s:.1f} s")
    print(f"median of {args.repeat}: {median:.1f} s = {len(pages) / median:.3f} pages/s "
          f"({median / len(pages):.1f} s/page); characters recovered {statistics.median(shares):.2%}")
    # Wall time on a shared machine depends on the load; CPU time (all threads) does not.
    print(f"CPU time: median {statistics.median(cpu) / len(pages):.1f} CPU-s/page; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
