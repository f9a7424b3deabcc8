"""Browser benchmark of the chat app: cold start to first answer, and per-answer time over 20 questions.

    .venv/bin/python benchmarks/bench_app.py [--index-dir DIR] [--out bench_app.json] [--screenshot shot.png]

Starts a fresh ``streamlit run app.py`` (cold: nothing cached in the server process) against an already
built index (built first, untimed, if missing), opens it in headless Chromium and asks the questions in
one session. Reports:
- ``first_answer_s``: driver.get → first answer fully drawn (target < 10 s); the page is opened as soon
  as the server answers its health check;
- ``page_ready_s``: driver.get → chat input usable (the page is drawn before the models finish loading);
- ``answer_s`` p50/p95/max: Enter → answer fully drawn in the browser, all questions (target p50 < 1 s);
  ``warm_answer_s`` the same without the first question (which waits for the cold load);
- ``engine_ms`` p50: the engine's own total time, as shown under each answer.
The load average is recorded: on a busy machine the numbers measure the other processes too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser helpers shared with the tests

from app_browser import ChatPage, browser_missing_reason, make_driver, running_app  # noqa: E402

from policy_assistant.index.store import has_index  # noqa: E402

QUESTIONS = [
    "PM2.5年均浓度目标是多少?",
    "七大示范工程有哪些?",
    "谁牵头铊污染专项治理攻坚行动?",
    "未取得排污许可证排污罚多少?",
    "空气质量优良天数比例目标是多少?",
    "八大攻坚行动包括哪些?",
    "排污许可证有效期是几年?",
    "环境保护税的纳税人是谁?",
    "建设项目环境影响报告书由谁审批?",
    "噪声污染防治法什么时候施行?",
    "土壤污染风险管控标准是什么?",
    "地表水考核断面水质优良比例目标是多少?",
    "长江流域禁止哪些行为?",
    "湿地保护法对占用重要湿地有什么规定?",
    "拒不改正的按日连续处罚从什么时候开始计算?",
    "碳排放权交易的主管部门是哪个?",
    "畜禽养殖废弃物如何处理?",
    "自然保护区的核心区允许进入吗?",
    "个人所得税起征点是多少?",
    "生态保护补偿的资金来源有哪些?",
]


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", help="built index to use (default: from policy-assistant.toml)")
    ap.add_argument("--n", type=int, default=len(QUESTIONS), help="number of questions (default 20)")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--screenshot", help="save a screenshot after the last answer")
    ap.add_argument("--via-cli", action="store_true",
                    help="start the server with `policy-assistant app` (loads index and models at server start) "
                         "instead of plain `streamlit run app.py`")
    args = ap.parse_args(argv)

    reason = browser_missing_reason()
    if reason:
        print(f"cannot run the browser benchmark: {reason}", file=sys.stderr)
        return 2

    from policy_assistant.core.config import load_settings

    settings = load_settings(index_dir=args.index_dir) if args.index_dir else load_settings()
    if not has_index(settings.index_dir):
        from policy_assistant.index.build import build_index

        print(f"building the index in {settings.index_dir} (untimed) …", file=sys.stderr)
        build_index(settings)

    questions = (QUESTIONS * (args.n // len(QUESTIONS) + 1))[: args.n]
    work = Path(tempfile.mkdtemp(prefix="pa-bench-app-"))
    env = {"POLICY_ASSISTANT_FEEDBACK_DB": str(work / "feedback.sqlite3"), "POLICY_ASSISTANT_APP_PASSWORD": ""}
    driver = make_driver(str(work / "profile"))
    results: dict = {"questions": len(questions), "index_dir": str(settings.index_dir),
                     "server": "policy-assistant app" if args.via_cli else "streamlit run app.py",
                     "cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        t_server = time.perf_counter()
        with running_app(settings, work / "streamlit.log", extra_env=env, via_cli=args.via_cli) as url:
            results["server_start_s"] = round(time.perf_counter() - t_server, 3)
            page = ChatPage(driver, timeout=120)
            t0 = time.perf_counter()
            results["page_ready_s"] = round(page.open(url), 3)
            times, engine_ms, statuses = [], [], []
            for i, q in enumerate(questions):
                dt = page.ask(q)
                if i == 0:
                    results["first_answer_s"] = round(time.perf_counter() - t0, 3)
                    results["process_start_to_first_answer_s"] = round(time.perf_counter() - t_server, 3)
                times.append(dt)
                last = page.last_answer()
                m = re.search(r"用时 (\d+) ms", last["text"])
                if m:
                    engine_ms.append(float(m.group(1)))
                statuses.append(next((s for s in ("已找到", "文件未明确", "未找到相关内容") if s in last["text"]), "?"))
                print(f"{i + 1:2d}. {dt * 1000:7.0f} ms  {statuses[-1]:8s} {q}", file=sys.stderr)
            if args.screenshot:
                driver.save_screenshot(args.screenshot)
    finally:
        driver.quit()
    results.update({
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "answer_s_p50": round(statistics.median(times), 3),
        "answer_s_p95": round(percentile(times, 0.95), 3),
        "answer_s_max": round(max(times), 3),
        "warm_answer_s_p50": round(statistics.median(times[1:]), 3) if len(times) > 1 else None,
        "warm_answer_s_p95": round(percentile(times[1:], 0.95), 3) if len(times) > 1 else None,
        "engine_ms_p50": round(statistics.median(engine_ms), 1) if engine_ms else None,
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "targets": {"first_answer_s": 10.0, "answer_s_p50": 1.0},
    })
    results["pass"] = results["first_answer_s"] < 10.0 and results["answer_s_p50"] < 1.0
    text = json.dumps(results, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
