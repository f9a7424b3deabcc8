"""Named prompt templates stored as files next to this module (``<name>.txt``), and prompt-related data
(``<name>.toml``).

``load_prompt("answer_system")`` returns the text; ``chat_prompt("answer")`` builds a LangChain
``ChatPromptTemplate`` from ``answer_system.txt`` + ``answer_user.txt``; ``load_data("instruction_patterns")``
reads ``instruction_patterns.toml``.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9_]+$")


def available() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.txt"))


def _read(name: str, suffix: str) -> str:
    """The text of ``prompts/<name><suffix>``. Raises KeyError for an unknown or malformed name."""
    if not _NAME.match(name or ""):
        raise KeyError(f"invalid prompt name {name!r}")
    path = PROMPT_DIR / f"{name}{suffix}"
    if not path.is_file():
        raise KeyError(f"unknown prompt {name!r}; available: {', '.join(available())}")
    return path.read_text(encoding="utf-8")


@cache
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.txt``. Raises KeyError for an unknown or malformed name."""
    return _read(name, ".txt").strip() + "\n"


@cache
def load_data(name: str) -> dict:
    """The table in ``prompts/<name>.toml``. Raises KeyError for an unknown or malformed name."""
    return tomllib.loads(_read(name, ".toml"))


def chat_prompt(name: str):
    """A ChatPromptTemplate from ``<name>_system.txt`` (system) and ``<name>_user.txt`` (human)."""
    from langchain_core.prompts import ChatPromptTemplate

    system = load_prompt(f"{name}_system")
    # the system prompt is fixed text: escape braces so it is not read as template variables
    system = system.replace("{", "{{").replace("}", "}}")
    return ChatPromptTemplate.from_messages([("system", system), ("human", load_prompt(f"{name}_user"))])
