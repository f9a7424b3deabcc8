"""Test helpers: real file-system faults (read-only files and folders, also when the tests run as root) and a
tiny two-document corpus.

Root ignores permission bits, so as root a path is made immutable (``chattr +i``, a real EPERM from the
kernel); otherwise its write bits are removed. Not a test module itself.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def read_only(path: Path):
    """``path`` (a file or a folder) cannot be written inside the block; restored afterwards."""
    path = Path(path)
    if os.geteuid() == 0:
        if not shutil.which("chattr"):
            pytest.skip("running as root without chattr: cannot make a path read-only")
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"chattr +i is not supported here: {made.stderr.strip()}")
        try:
            yield path
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield path
        finally:
            path.chmod(mode)


TINY_LAW = """# 中华人民共和国示例保护法

2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了保护示例环境，制定本法。

第二条 排放示例污染物的单位，应当取得排污许可证。

## 第二章 法律责任

第三条 违反本法规定，未取得排污许可证排放示例污染物的，处十万元以上一百万元以下的罚款。
"""

TINY_REGULATION = """# 示例湿地管理条例

<!-- INFO END -->

第一条 为了管理示例湿地，制定本条例。

第二条 示例湿地的保护范围由县级以上人民政府划定。

第三条 在示例湿地内填埋湿地的，处五万元以上十万元以下的罚款。
"""


def write_tiny_corpus(folder: Path) -> Path:
    """Two small documents (a law and a regulation) in ``folder``: an index of them builds in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "示例保护法(2020-01-01).md").write_text(TINY_LAW, encoding="utf-8")
    (folder / "示例湿地管理条例(2021-01-01).md").write_text(TINY_REGULATION, encoding="utf-8")
    return folder
