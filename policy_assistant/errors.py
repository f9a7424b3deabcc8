"""Domain exceptions. Each carries the fix, so front ends can show one readable message."""

from __future__ import annotations


class PolicyAssistantError(Exception):
    """Base class: ``message`` says what is wrong, ``fix`` says what to do about it."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


class ConfigError(PolicyAssistantError):
    """The configuration file or an override is invalid."""


class CorpusError(PolicyAssistantError):
    """No document could be read, or a requested document does not exist."""


class IndexMissingError(PolicyAssistantError):
    """No index has been built yet."""


class IndexMismatchError(PolicyAssistantError):
    """The index on disk was built with different settings (embedder, dimension, format)."""


class IndexCorruptError(PolicyAssistantError):
    """An index file is missing or its checksum does not match the manifest."""


class IndexLockedError(PolicyAssistantError):
    """Another build holds the index lock."""


class EmbedderError(PolicyAssistantError):
    """An embedding model cannot be loaded."""


class QuestionError(PolicyAssistantError):
    """The question cannot be answered as given (empty, only punctuation, …)."""
