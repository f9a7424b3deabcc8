"""Named prompt templates stored as files next to this module (``<name>.txt``).

``load_prompt("answer_system")`` returns the text; ``chat_prompt("answer")`` builds a LangChain
``ChatPromptTemplate`` from ``answer_system.txt`` + ``answer_user.txt``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9_]+$")


def available() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.txt"))


@cache
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.txt``. Raises KeyError for an unknown or malformed name."""
    if not _NAME.match(name or ""):
        raise KeyError(f"invalid prompt name {name!r}")
    path = PROMPT_DIR / f"{name}.txt"
    if not path.is_file():
        raise KeyError(f"unknown prompt {name!r}; available: {', '.join(available())}")
    return path.read_text(encoding="utf-8").strip() + "\n"


def chat_prompt(name: str):
    """A ChatPromptTemplate from ``<name>_system.txt`` (system) and ``<name>_user.txt`` (human)."""
    from langchain_core.prompts import ChatPromptTemplate

    system = load_prompt(f"{name}_system")
    # the system prompt is fixed text: escape braces so it is not read as template variables
    system = system.replace("{", "{{").replace("}", "}}")
    return ChatPromptTemplate.from_messages([("system", system), ("human", load_prompt(f"{name}_user"))])
