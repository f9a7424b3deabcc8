"""Issue 10 (reliability), `ask` input: invalid UTF-8 or GBK in a batch file, on stdin or in argv, and
malformed JSON lines. Each bad line is one error line (and an error record) with the fix; the batch
goes on past it and exits 2 at the end; nothing ends in a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policy_assistant.answer.batch import parse_batch
from policy_assistant.core.errors import QuestionError

ROOT = Path(__file__).resolve().parents[1]
INVALID = b"\xff\xfe \xe7\x8e\xaf\xe5\xa2\x83\xe4\xbf\x9d\xe6\x8a\xa4\xe7\xa8\x8e"  # printf '\xff\xfe 环境保护税'
GOOD = "PM2.5年均浓度目标是多少?"


def _run(*args, stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=300)


def _records(p) -> list[dict]:
    return [json.loads(x) for x in p.stdout.decode("utf-8").splitlines()]


# --------------------------------------------------------------------------- parsing (no index)


def test_parse_batch_invalid_utf8_line_is_an_error_and_the_rest_is_read():
    """Issue 10: `printf '\\xff\\xfe 环境保护税\\n'` in a batch file raised UnicodeDecodeError."""
    lines = parse_batch(INVALID + b"\n" + GOOD.encode() + b"\n\n")
    assert [(x.line, x.error is None) for x in lines] == [(1, False), (2, True)]
    assert "line 1" in lines[0].error.message and "UTF-8" in lines[0].error.fix
    assert lines[1].question == GOOD


def test_parse_batch_gbk_file():
    """Issue 10: a GBK-encoded batch file raised UnicodeDecodeError."""
    data = "森林覆盖率目标是多少?\r\n七大示范工程有哪些?\r\n".encode("gbk")
    assert [(x.question, x.error) for x in parse_batch(data)] == [("森林覆盖率目标是多少?", None),
                                                                  ("七大示范工程有哪些?", None)]


def test_parse_batch_malformed_json_is_an_error_not_a_question():
    """Issue 10: malformed JSON lines were asked as literal text without a warning."""
    data = '{"q": "七大示范工程有哪些?"}\n{"q": "缺引号}\n{"text": "没有q"}\n{"q": ""}\n'.encode()
    lines = parse_batch(data)
    assert lines[0].question == "七大示范工程有哪些?" and lines[0].error is None
    assert "line 2 is malformed JSON" in lines[1].error.message
    assert 'without a "q"' in lines[2].error.message and 'without a "q"' in lines[3].error.message
    assert all('{"q": "问题"}' in x.error.fix for x in lines[1:])


def test_question_with_undecodable_bytes_is_a_question_error():
    """Issue 10: invalid UTF-8 reached the embedder and raised UnicodeEncodeError there."""
    from policy_assistant.answer.analyse import clean_question

    with pytest.raises(QuestionError) as err:
        clean_question(INVALID.decode("utf-8", "surrogateescape"))
    assert "\\xff\\xfe" in err.value.message


# --------------------------------------------------------------------------- the command (real index)


@pytest.mark.slow
def test_ask_batch_file_with_invalid_utf8_and_malformed_json(built_index, tmp_path):
    """Issue 10: invalid UTF-8 and malformed JSON lines in `ask --json --batch FILE`."""
    f = tmp_path / "q.txt"
    f.write_bytes(INVALID + b"\n" + GOOD.encode() + b'\n{"q": "broken\n{"q": "\xe4\xb8\x83\xe5\xa4\xa7\xe7\xa4\xba'
                  b'\xe8\x8c\x83\xe5\xb7\xa5\xe7\xa8\x8b\xe6\x9c\x89\xe5\x93\xaa\xe4\xba\x9b?"}\n')
    p = _run("--index-dir", str(built_index.index_dir), "ask", "--json", "--batch", str(f))
    assert p.returncode == 2, p.stderr
    err = p.stderr.decode("utf-8")
    assert "Traceback" not in err
    errors = [x for x in err.splitlines() if x.startswith("error: ")]
    assert len(errors) == 2 and "line 1" in errors[0] and "line 3 is malformed JSON" in errors[1], err
    rows = _records(p)
    assert [r.get("line") for r in rows] == [1, None, 3, None]
    assert "error" in rows[0] and "error" in rows[2]
    assert rows[1]["status"] == "answered" and rows[3]["status"] == "answered"  # the batch went on


@pytest.mark.slow
def test_ask_batch_gbk_file_and_stdin(built_index, tmp_path):
    """Issue 10: a GBK batch file, and invalid UTF-8 on stdin (`--batch -`)."""
    f = tmp_path / "gbk.txt"
    f.write_bytes(f"{GOOD}\n七大示范工程有哪些?\n".encode("gbk"))
    p = _run("--index-dir", str(built_index.index_dir), "ask", "--json", "--batch", str(f))
    assert p.returncode == 0, p.stderr
    assert [r["status"] for r in _records(p)] == ["answered", "answered"]
    p = _run("--index-dir", str(built_index.index_dir), "ask", "--json", "--batch", "-",
             stdin=INVALID + b"\n" + GOOD.encode() + b"\n")
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    rows = _records(p)
    assert "error" in rows[0] and rows[1]["status"] == "answered"


@pytest.mark.slow
def test_ask_argv_invalid_utf8_and_gbk(built_index):
    """Issue 10: `ask` with invalid UTF-8 in argv ended in a UnicodeEncodeError inside the embedder."""
    idx = str(built_index.index_dir).encode()
    p = subprocess.run([sys.executable, "-m", "policy_assistant", b"--index-dir", idx, b"ask", INVALID],
                       cwd=ROOT, capture_output=True, timeout=300)
    err = p.stderr.decode("utf-8")
    assert p.returncode == 2 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and "not valid UTF-8 or GBK" in err and "LANG=C.UTF-8" in err
    p = subprocess.run([sys.executable, "-m", "policy_assistant", b"--index-dir", idx, b"ask", b"--json",
                        GOOD.encode("gbk")], cwd=ROOT, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["question"] == GOOD  # a GBK terminal's question is understood


def test_missing_batch_file_is_one_line(tmp_path):
    p = _run("--index-dir", str(tmp_path / "none"), "ask", "--batch", str(tmp_path / "nope.txt"))
    err = p.stderr.decode("utf-8")
    assert p.returncode == 2 and len(err.strip().splitlines()) == 1 and "batch file" in err
