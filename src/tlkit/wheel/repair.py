"""auditwheel repair: a manylinux tag, with the libraries TileLang must not vendor excluded."""

from __future__ import annotations

import re
from pathlib import Path

from tlkit.base import procs
from tlkit.base.errors import BuildError
from tlkit.base.redact import redact


def _ldpaths(ldpaths: tuple[Path, ...]) -> list[str]:
    """auditwheel's --ldpaths: where a cross-built wheel's libraries are (this machine's are another arch's)."""
    return ["--ldpaths", ":".join(map(str, ldpaths))] if ldpaths else []


def lowest_platform(wheel: Path, auditwheel: str, env: dict[str, str]) -> str:
    """The most compatible manylinux tag the wheel's symbol versions allow (auditwheel show)."""
    res = procs.run([auditwheel, "show", str(wheel)], capture_output=True, text=True, env=env)
    text = " ".join((res.stdout + res.stderr).split())
    # With libraries still to vendor, "consistent with" says linux_x86_64 and the symbol versions are in
    # "constrains ... to"; a self-contained wheel only gets the first sentence.
    m = re.search(r'constrains the platform tag to "([^"]+)"', text) or re.search(
        r'consistent with the following platform tag: "(manylinux[^"]+)"', text)
    if res.returncode != 0 or not m:
        raise BuildError(f"auditwheel show {wheel.name} names no platform tag:\n{text[-2000:]}")
    return m.group(1)


def repair_wheel(wheel: Path, buildenv: Path, platform: str, exclude: tuple[str, ...] | list[str], out_dir: Path,
                 log_path: Path, env: dict[str, str], keep_fds: tuple[int, ...] = (),
                 ldpaths: tuple[Path, ...] = ()) -> Path:
    """Repair `wheel` into out_dir (a fresh folder); auditwheel's output is appended to log_path. `keep_fds`:
    held by auditwheel's supervisor until auditwheel has ended (the build lock: see leftovers.py); `ldpaths`:
    the only folders searched for the wheel's libraries (a cross build's target libraries), not this machine's.

    platform "auto" takes the most compatible manylinux tag the build machine's glibc and libstdc++ allow
    (a build on Debian 12 cannot honestly claim the manylinux_2_28 that a manylinux container gives)."""
    auditwheel = str(buildenv / "bin" / "auditwheel")
    # A wheel for another machine keeps "auto": --plat accepts this machine's tags only, and auditwheel's own auto
    # takes the wheel's arch and, as lowest_platform, its most compatible tag.
    if platform == "auto" and not ldpaths:
        platform = lowest_platform(wheel, auditwheel, env)
    cmd = [auditwheel, "repair", *_ldpaths(ldpaths), "--plat", platform, "-w", str(out_dir)]
    for pattern in exclude:
        cmd += ["--exclude", pattern]
    cmd.append(str(wheel))
    res = procs.run(cmd, capture_output=True, text=True, env=env, pass_fds=keep_fds)
    with open(log_path, "a", encoding="utf-8") as logf:
        logf.write(redact(f"\n# {' '.join(cmd)}\n{res.stdout}{res.stderr}"))
    if res.returncode != 0:
        show = procs.run([auditwheel, "show", *_ldpaths(ldpaths), str(wheel)], capture_output=True, text=True,
                         env=env)
        raise BuildError(f"auditwheel repair --plat {platform} failed for {wheel.name}:\n"
                         f"{(res.stderr or res.stdout).strip()[-2000:]}\nauditwheel show says:\n"
                         f"{(show.stdout or show.stderr).strip()[-2000:]}")
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"auditwheel left {[w.name for w in wheels]} in {out_dir}, expected one wheel")
    return wheels[0]
