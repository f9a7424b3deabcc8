"""Resumable embedding: vectors of a build that has not finished, kept so the next build goes on from there.

Embedding the 69k-chunk scale corpus takes hours on 2 cores; a build stopped part way (kill, reboot, the
end of a working day) would otherwise start again from nothing. While a build embeds, every finished batch
is appended to ``<index_dir>/.embed-checkpoint/``:

    meta.json           {"embedder": name, "dim": dim}  — a checkpoint of another embedder is not used
    <stage>.f32         little-endian float32 rows, appended batch by batch
    <stage>.hashes      one content hash per line, appended after the batch's rows are on disk

On the next build the pairs (hash, row) are read back — as many as both files hold, so a batch cut off
mid-write is simply embedded again — and used like the vectors of a previous index. A build that
commits removes the folder (it only ever holds what a build of this folder wrote). Plain files, no pickle.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

FOLDER = ".embed-checkpoint"
_META = "meta.json"
_OURS = re.compile(r"meta\.json|\w+\.(?:f32|hashes)")  # the only names a checkpoint folder holds


class EmbedCheckpoint:
    """Appends (hash, vector) pairs of one build and reads back those of an unfinished one."""

    def __init__(self, index_dir: Path, embedder_name: str, dim: int):
        self.folder = Path(index_dir) / FOLDER
        self.meta = {"embedder": embedder_name, "dim": int(dim)}
        # The checkpoint only saves work: when it cannot be written (disk full, read-only) the build goes
        # on without it and reports the storage problem where the index itself is written.
        self.failed: OSError | None = None

    def _matches(self) -> bool:
        try:
            return json.loads((self.folder / _META).read_text(encoding="utf-8")) == self.meta
        except (OSError, ValueError):
            return False

    def _pairs(self, stage: str) -> tuple[list[str], np.ndarray]:
        dim = self.meta["dim"]
        try:
            raw = (self.folder / f"{stage}.f32").read_bytes()
            hashes = (self.folder / f"{stage}.hashes").read_text(encoding="utf-8").split()
        except OSError:
            return [], np.zeros((0, dim), dtype="<f4")
        rows = np.frombuffer(raw[: len(raw) - len(raw) % (dim * 4)], dtype="<f4").reshape(-1, dim)
        n = min(len(rows), len(hashes))
        return hashes[:n], rows[:n]

    def load(self, stage: str) -> dict[str, np.ndarray]:
        """The vectors an unfinished build of this embedder left for ``stage`` (empty if none)."""
        if not self._matches():
            return {}
        hashes, rows = self._pairs(stage)
        return dict(zip(hashes, rows, strict=True))

    def start(self, stages: tuple[str, ...] = ("embed", "units")) -> None:
        """Make the folder for this build; a checkpoint of another embedder is replaced. Rows or hashes a
        killed build wrote past their partner are cut off, so later appends stay aligned."""
        if self.folder.exists() and not self._ours():
            self.failed = FileExistsError(f"{self.folder} holds files a build did not write; left alone")
            return
        if self.folder.is_dir() and not self._matches():
            self.discard()
        try:
            self.folder.mkdir(exist_ok=True)
            (self.folder / _META).write_text(json.dumps(self.meta), encoding="utf-8")
            for stage in stages:
                kept, _ = self._pairs(stage)
                rows, hashes = self.folder / f"{stage}.f32", self.folder / f"{stage}.hashes"
                if rows.exists():
                    with open(rows, "r+b") as f:
                        f.truncate(len(kept) * self.meta["dim"] * 4)
                if hashes.exists():
                    hashes.write_text("".join(h + "\n" for h in kept), encoding="utf-8")
        except OSError as exc:
            self.failed = exc

    def append(self, stage: str, hashes: list[str], vectors: np.ndarray) -> None:
        """Record one embedded batch (rows first, then their hashes); a no-op once writing has failed."""
        if self.failed is not None:
            return
        try:
            with open(self.folder / f"{stage}.f32", "ab") as f:
                f.write(np.ascontiguousarray(vectors, dtype="<f4").tobytes())
            with open(self.folder / f"{stage}.hashes", "a", encoding="utf-8") as f:
                f.write("".join(h + "\n" for h in hashes))
        except OSError as exc:
            self.failed = exc

    def _ours(self) -> bool:
        """The folder is a real directory holding nothing but checkpoint files."""
        try:
            return (self.folder.is_dir() and not self.folder.is_symlink()
                    and all(_OURS.fullmatch(p.name) and p.is_file() and not p.is_symlink()
                            for p in self.folder.iterdir()))
        except OSError:
            return False

    def discard(self) -> None:
        """Remove the checkpoint folder — only when it holds nothing but checkpoint files."""
        if self._ours():
            shutil.rmtree(self.folder, ignore_errors=True)
