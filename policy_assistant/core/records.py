"""Dataclass records to and from their JSON form (chunks, quiz questions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

R = TypeVar("R")


def record_from_dict(cls: type[R], d: Mapping[str, Any]) -> R:
    """An instance of the dataclass ``cls`` from a ``to_dict()`` mapping: keys that are not fields are
    ignored (older or newer writers), and ``path`` (a JSON list) becomes a tuple again."""
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: v for k, v in d.items() if k in names}
    if "path" in names:
        fields["path"] = tuple(fields.get("path", ()))
    return cls(**fields)
