"""The provenance record written into the wheel's .dist-info: everything that went into the build,
and nothing that differs between two builds of the same inputs (no times, no host names)."""

from __future__ import annotations

import platform
import sys

from tlkit import __version__
from tlkit.wheel.recipe import GitSource, Recipe
from tlkit.wheel.series import Series
from tlkit.wheel.sources import sha256_file
from tlkit.wheel.toolchain import Toolchain


def provenance(recipe: Recipe, series: Series, toolchain: Toolchain | None, label: str,
               cross: dict | None = None) -> dict:
    """`cross`: the target and cross toolchain of a build for another machine (CrossBuild.provenance); a native
    wheel's target is build.machine."""
    source = recipe.source
    src: dict = {"kind": "git" if isinstance(source, GitSource) else "sdist", "version": source.version}
    if isinstance(source, GitSource):
        src.update(url=source.url, commit=source.commit, tvm_commit=source.tvm_commit)
    else:
        src.update(package=source.package, sha256=source.sha256)
    return {
        "kit": {"name": "tlkit", "version": __version__},
        "recipe": {"name": recipe.name, "sha256": sha256_file(recipe.path)},
        "source": src,
        "patches": [
            {"name": p.name, "sha256": p.sha256, "subject": p.subject,
             "upstream_issue": p.fields["Upstream-Issue"], "upstream_status": p.fields["Upstream-Status"]}
            for p in series.patches
        ],
        "series_sha256": series.digest,
        "label": label,
        "toolchain": None if toolchain is None else {
            "cuda": toolchain.spec.cuda,
            "nvcc": toolchain.nvcc_version,
            "packages": dict(sorted(toolchain.spec.packages.items())),
        },
        "build": {
            "requires": sorted(recipe.build_requires),
            "env": dict(sorted(recipe.build_env.items())),
            "source_date_epoch": recipe.source_date_epoch,
            "platform": recipe.platform,
            "python": ".".join(map(str, sys.version_info[:3])),
            "machine": platform.machine(),
        },
        "runtime_pins": dict(sorted(recipe.runtime_pins.items())),
        **({"cross": cross} if cross else {}),
    }
