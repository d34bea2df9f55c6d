"""A package index's simple API (PEP 691 JSON, else PEP 503 HTML): which releases a project has, and whether
each has an sdist. Read-only and metadata-only: no file is downloaded."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from tlkit.base.errors import KitError

PYPI = "https://pypi.org/simple/"
_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass
class Release:
    version: Version
    sdist: bool = False
    wheels: int = 0


@dataclass(frozen=True)
class Project:
    name: str
    found: bool  # False: the index has no page for it (404)
    releases: dict[Version, Release] = field(default_factory=dict)


class _Links(HTMLParser):
    """The file names of a PEP 503 project page: each anchor's text, yanked ones left out."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._yanked = False
        self._in_anchor = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._in_anchor = True
            self._yanked = any(k == "data-yanked" for k, _ in attrs)
            self.names.append("")

    def handle_data(self, data: str) -> None:
        if self._in_anchor:
            self.names[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor = False
            if self._yanked:
                self.names.pop()


def _file_names(body: bytes, content_type: str) -> list[str]:
    if content_type.startswith(_JSON) or content_type.startswith("application/json"):
        doc = json.loads(body)
        return [f["filename"] for f in doc.get("files", []) if not f.get("yanked")]
    parser = _Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    return [n.strip() for n in parser.names]


def releases_from(names: list[str], project: str) -> dict[Version, Release]:
    """Releases by version from the file names of one project (other projects' files, and names that are
    neither a wheel nor an sdist, left out)."""
    want = canonicalize_name(project)
    out: dict[Version, Release] = {}
    for name in names:
        try:
            if name.endswith(".whl"):
                dist, version, _, _ = parse_wheel_filename(name)
                wheel = True
            else:
                dist, version = parse_sdist_filename(name)
                wheel = False
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        if dist != want:
            continue
        release = out.setdefault(version, Release(version))
        if wheel:
            release.wheels += 1
        else:
            release.sdist = True
    return out


def fetch_project(index: str, project: str, timeout: float = 60) -> Project:
    """One project's page of `index` (a simple API base URL). An index that cannot be reached is one line
    naming the URL; a project it does not have is `found=False`."""
    url = urllib.parse.urljoin(index if index.endswith("/") else index + "/", canonicalize_name(project) + "/")
    request = urllib.request.Request(url, headers={"Accept": f"{_JSON}, text/html;q=0.1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body, content_type = response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return Project(project, False)
        raise KitError(f"the package index {index}: {url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KitError(f"the package index {index} cannot be reached ({reason})") from None
    return Project(project, True, releases_from(_file_names(body, content_type), project))
