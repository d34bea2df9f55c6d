"""Where the kit keeps its data (recipes, patches) and its caches."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def kit_root(environ: Mapping[str, str] | None = None) -> Path:
    """The checkout holding recipes/ and patches/: $TLKIT_ROOT, else the first parent of the cwd or
    of this package that has both. `environ` is the environment an options' resolve step reads (default: ours)."""
    env = (os.environ if environ is None else environ).get("TLKIT_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / "recipes").is_dir() and (folder / "patches").is_dir():
                return folder
    raise RuntimeError("cannot find the kit's recipes/ and patches/; set TLKIT_ROOT to the kit checkout")


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """User cache: $TLKIT_CACHE_DIR, else $XDG_CACHE_HOME/tlkit, else ~/.cache/tlkit (`environ`: as kit_root).

    Paths under it are stable, which keeps ccache hits across rebuilds."""
    environ = os.environ if environ is None else environ
    env = environ.get("TLKIT_CACHE_DIR")
    if env:
        return Path(env).resolve()
    xdg = environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return (base / "tlkit").resolve()


def private_tmp(name: str) -> Path:
    """A folder of this user's in the temporary folder ($TMPDIR, else /tmp): `<tmp>/<name>-<uid>`, made with
    mode 0700. On a shared host anyone can plant a name there first: a symlink, or a folder that is not this
    user's or that others may write into is refused with one line, never used (a planted lock could
    truncate a file through a symlink, or let another user block or hijack a build)."""
    import stat
    import tempfile

    from tlkit.base.errors import KitError

    folder = Path(tempfile.gettempdir()) / f"{name}-{os.getuid()}"
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise KitError(f"cannot create {folder}: {exc.strerror}") from exc
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise KitError(f"{folder} is not a folder (a symlink or a file planted there?); remove it")
    if info.st_uid != os.getuid():
        raise KitError(f"{folder} belongs to uid {info.st_uid}, not to this user (uid {os.getuid()}); remove it")
    if info.st_mode & 0o077:
        raise KitError(f"{folder} has mode {stat.S_IMODE(info.st_mode):04o}, others may write into it; "
                       f"chmod 700 it or remove it")
    return folder


DEFAULT_RECIPE = "tilelang-0.1.14"  # what build-wheel builds and verify takes its CUDA default from
_UNSAFE = re.compile(r"[^A-Za-z0-9.+=_-]+")


def folder_name(text: str) -> str:
    """`text` (a variant name, a wheel label) as one folder name: unsafe runs become "_"."""
    return _UNSAFE.sub("_", text).strip("_")


@dataclass(frozen=True)
class KitLayout:
    """Every path under the kit's root, named once."""

    root: Path

    @classmethod
    def find(cls) -> KitLayout:
        return cls(kit_root())

    @property
    def recipes(self) -> Path:
        return self.root / "recipes"

    @property
    def toolchains(self) -> Path:
        return self.recipes / "cuda-toolchains.toml"

    @property
    def arches(self) -> Path:
        """The arch table: what --arch may name, and each arch's Debian sysroot and cross compiler."""
        return self.recipes / "arches.toml"

    def build_weights(self, recipe: str) -> Path:
        """The progress line's cost model of a recipe's build (benchmarks/build_weights.py writes it)."""
        return self.recipes / "build-times" / f"{recipe}.toml"

    @property
    def patches(self) -> Path:
        """The series of every recipe: patches/<version>/<upstream>/."""
        return self.root / "patches"

    @property
    def build(self) -> Path:
        """Prepared trees, build folders and verify's venvs (the default of --work-dir)."""
        return self.root / "build"

    @property
    def default_recipe(self) -> Path:
        return self.recipes / f"{DEFAULT_RECIPE}.toml"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def verify(self) -> Path:
        """The user-facing verification data: kernels.py and the tables."""
        return self.root / "verify"

    @property
    def kernels(self) -> Path:
        return self.verify / "kernels.py"

    @property
    def variants(self) -> Path:
        return self.verify / "variants.toml"

    @property
    def verify_toml(self) -> Path:
        return self.verify / "verify.toml"

    @property
    def gpu_toml(self) -> Path:
        return self.verify / "gpu.toml"

    @property
    def cuda_drivers(self) -> Path:
        """The driver each CUDA 13.x toolkit needs (doctor)."""
        return self.verify / "cuda-drivers.toml"

    @property
    def smem_limits(self) -> Path:
        return self.verify / "shared-memory-limits.toml"

    def saved_sources(self, version: str) -> Path:
        """The CUDA sources verify-sm120 saved from TileLang `version` (test data: `nox -s stock-sources`)."""
        return self.root / "tests" / "data" / "stock-sources" / version

    def verify_work(self, tier: str) -> Path:
        """build/verify (verify-sm120) or build/verify-gpu: venvs/, and per run slot a kernel cache and runs/."""
        return self.build / tier
