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


class IndexFolderError(PolicyAssistantError):
    """The index folder cannot be used: it belongs to someone else, or it cannot be written."""


class StorageError(PolicyAssistantError):
    """A file or folder could not be read or written (disk full, read-only, permissions, a symlink loop)."""


class UploadError(PolicyAssistantError):
    """An uploaded file cannot become a document (empty, too large, wrong type, damaged, a duplicate …)."""


class RegistryError(PolicyAssistantError):
    """The document registry or the conversation store (SQLite) cannot be read or written."""


class DocumentsBusyError(PolicyAssistantError):
    """Another administrator is changing the document set right now."""


def os_error_fix(exc: OSError, what: str = "the folder") -> str:
    """The fix for an operating-system error, by its errno (so each message names the right remedy)."""
    import errno

    fixes = {
        errno.ENOSPC: "free disk space and try again",
        errno.EDQUOT: "free disk space (quota exceeded) and try again",
        errno.EFBIG: "free disk space or raise the file size limit (`ulimit -f`) and try again",
        errno.EROFS: f"{what} is on a read-only file system: use a writable location",
        errno.EACCES: f"check the permissions of {what} or use a writable location",
        errno.EPERM: f"check the permissions of {what} or use a writable location",
        errno.ELOOP: "a symbolic link points to itself (a loop): remove or fix the link",
        errno.ENAMETOOLONG: "use a shorter path",
        errno.EBUSY: f"{what} is in use (a mount point?): use a folder inside it",
        errno.ENOENT: "check that the path exists",
        errno.ENOTDIR: "a part of the path is a file, not a folder: fix the path",
        errno.EISDIR: "the path is a folder, not a file: give a file name",
    }
    return fixes.get(exc.errno or -1, "check the path and its permissions")
