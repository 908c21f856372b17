"""One exception root, split by whose fault it is.

- :class:`SubmissionError`: the student's code or notebook. Never escapes the
  engine: it becomes a recorded result for the affected parts.
- :class:`ConfigError`: the instructor's set-up (a bad option, a missing corpus,
  an unreadable course folder). Reported with what to change.
- :class:`InternalError`: ours. The engine still writes a record (every
  unfinished part ``error``) and says to report it.
"""

from __future__ import annotations

__all__ = ["ConfigError", "GraderError", "InternalError", "ProtocolError", "SubmissionError"]


class GraderError(Exception):
    """Root of every error the grader raises on purpose."""


class SubmissionError(GraderError):
    """Something about a submission that costs it points; recorded, never fatal."""


class ProtocolError(SubmissionError):
    """The sandbox worker sent something that is not a well-formed reply.

    The worker runs student code, so a malformed reply is the submission's doing.
    """


class ConfigError(GraderError):
    """The instructor's configuration is invalid; the message says what to change."""


class InternalError(GraderError):
    """A bug in the grader itself; please report it with the record it left."""
