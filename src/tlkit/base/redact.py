"""What looks like a secret, taken out of every line, log, provenance and state file the kit writes.

Credentials reach the kit in URLs (a compile cache remote `http://user:password@host/`, a token alone
`http://token@host/`, ccache's `|bearer-token=...` property), in `key=value` settings and in HTTP auth
headers, in `--password VALUE` options and under a secret's name in data. The rules err on the side of
hiding: everything between `://` and the last `@` of a word is
userinfo (a password may hold `/` or `@`), and the user name alone is kept."""

from __future__ import annotations

import re
from typing import Any, TextIO

_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^\s|'\"<>]*)@")
# A setting whose name ends in a secret's word: `password=`, `--api-key=`, `bearer-token=`, `AWS_SECRET=`.
_SETTING = re.compile(r"(?i)(\b[\w.-]*(?:password|passwd|token|secret|api[_-]?key|access[_-]?key|credentials?)=)"
                      r"([^\s&|'\",;]+)")
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*(?:\w+\s+)?)\S+")
# An option whose name says secret, then its value as the next word: `--password hunter2`, `--api-key abc`.
_OPTION = re.compile(r"(?i)(--?[\w-]*(?:password|passwd|token|secret|api[_-]?key|access[_-]?key|credentials?)\s+)"
                     r"(?!-)[^\s'\"]+")
_SECRET_KEY = re.compile(r"(?i)(password|passwd|token|secret|api[_-]?key|access[_-]?key|credentials?)$")
HIDDEN = "***"


def _userinfo(match: re.Match) -> str:
    user, colon, _ = match.group(2).partition(":")
    return f"{match.group(1)}{user}:{HIDDEN}@" if colon else f"{match.group(1)}{HIDDEN}@"


def redact(text: str) -> str:
    """`text` with URL passwords and tokens, secret-looking settings and auth headers replaced by ***."""
    if not text:
        return text
    text = _USERINFO.sub(_userinfo, text)
    text = _SETTING.sub(lambda m: m.group(1) + HIDDEN, text)
    text = _OPTION.sub(lambda m: m.group(1) + HIDDEN, text)
    return _AUTH_HEADER.sub(lambda m: m.group(1) + HIDDEN, text)


def redact_data(value: Any) -> Any:
    """A JSON-like value (provenance, a report, a state record) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):  # a value under a secret's name is hidden whatever it looks like
        return {redact_data(k): HIDDEN if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str)
                else redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(v) for v in value)
    return value


class RedactingStream:
    """A text stream (the kit's stdout or stderr) that redacts each write; the rest is the stream's own.
    print() hands a whole message to one write, so a URL is never split between two."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(redact(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def redact_streams() -> None:
    """Every line this process prints from here on goes through `redact` (called once, by the CLI)."""
    import sys

    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)  # type: ignore[assignment]
