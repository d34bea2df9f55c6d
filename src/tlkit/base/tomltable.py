"""Strict reading of TOML tables: every key typed, unknown keys refused, errors naming file and key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tlkit.base.errors import RecipeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise RecipeError(path, "-", "is a folder, not a TOML file")
    if not path.is_file():
        raise RecipeError(path, "-", "file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RecipeError(path, "-", f"not valid TOML: {exc}") from None


class Table:
    """One TOML table; each accessor consumes a key, `finish()` rejects what was not consumed."""

    def __init__(self, path: Path, data: Any, name: str) -> None:
        if not isinstance(data, dict):
            raise RecipeError(path, name, f"must be a table, got {type(data).__name__}")
        self.path, self.data, self.name = path, data, name
        self._seen: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def fail(self, key: str, problem: str) -> RecipeError:
        return RecipeError(self.path, self.key(key), problem)

    def _get(self, key: str, kind: type | tuple[type, ...], required: bool, default: Any) -> Any:
        self._seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be {names}, got {type(value).__name__} {value!r}")
        return value

    def str(self, key: str, required: bool = True, default: str | None = None) -> Any:
        value = self._get(key, str, required, default)
        if isinstance(value, str) and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def int(self, key: str, required: bool = True, default: int | None = None) -> Any:
        return self._get(key, int, required, default)

    def number(self, key: str, required: bool = True, default: float | None = None) -> Any:
        return self._get(key, (int, float), required, default)

    def str_list(self, key: str, required: bool = True) -> list[str]:
        value = self._get(key, list, required, [])
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", f"must be a non-empty string, got {item!r}")
        return list(value)

    def int_list(self, key: str, required: bool = True) -> list[int]:
        value = self._get(key, list, required, [])
        for i, item in enumerate(value):
            if not isinstance(item, int) or isinstance(item, bool):
                raise self.fail(f"{key}[{i}]", f"must be an integer, got {item!r}")
        return list(value)

    def table_list(self, key: str, required: bool = True) -> list[Table]:
        value = self._get(key, list, required, [])
        return [Table(self.path, item, f"{self.key(key)}[{i}]") for i, item in enumerate(value)]

    def str_map(self, key: str, required: bool = True) -> dict[str, str]:
        value = self._get(key, dict, required, {})
        for k, v in value.items():
            if not isinstance(v, str):
                raise self.fail(f"{key}.{k}", f"must be a string, got {type(v).__name__} {v!r}")
        return dict(value)

    def table(self, key: str, required: bool = True) -> Table:
        value = self._get(key, dict, required, {})
        return Table(self.path, value, self.key(key))

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            raise self.fail(unknown[0], "unknown key (typo?); allowed: " + ", ".join(sorted(self._seen)))
