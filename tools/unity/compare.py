"""Each unity object that compiled, against its member files' times in a cold build's ninja log: the CPU seconds
(user + system, from times.log) of the unity objects and of the sources compiled alone, and the cold build's
seconds for the same files. Run by hand after tools/unity/run.sh; prints sums, asserts nothing.

    python3 tools/unity/compare.py build/unity-b16 COLD_BUILD.ninja_log
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

OBJECT_DIR = re.compile(r"CMakeFiles/[^/]+\.dir/")
TIMED = re.compile(r"([\d.]+) ([\d.]+) ([\d.]+) .* -o (\S+) -c")


def cold_seconds(ninja_log: Path) -> dict[str, float]:
    """Output (object folder left out, as `tvm/src/x.cc.o`) -> seconds, from a ninja log."""
    seconds = {}
    for line in ninja_log.read_text().splitlines():
        if line.startswith("#"):
            continue
        start, end, _, out, _ = line.split("\t")
        seconds[OBJECT_DIR.sub("", out)] = (int(end) - int(start)) / 1000
    return seconds


def member_key(unity_object: str, include: str) -> str:
    """A unity file's `#include "<path from the top source folder>"` as the cold build names the source's object:
    TVM's build folder is `tvm/` for `3rdparty/tvm/`, and a TileLang source in a TVM target is `tvm/__/__/...`."""
    if include.startswith("3rdparty/tvm/"):
        return "tvm/" + include.removeprefix("3rdparty/tvm/") + ".o"
    return ("tvm/__/__/" if unity_object.startswith("tvm/") else "") + include + ".o"


def main(folder: Path, ninja_log: Path) -> None:
    cold = cold_seconds(ninja_log)
    failed = set(re.findall(r"^FAILED: \[code=\d+\] (\S+)", (folder / "ninja.log").read_text(), re.MULTILINE))
    cpu = {}
    for line in (folder / "times.log").read_text().splitlines():
        m = TIMED.match(line)
        if m:  # the last compile of an output counts (a re-run overwrites)
            cpu[m.group(4)] = float(m.group(2)) + float(m.group(3))
    build = folder / "src" / "build"
    unity_cpu = unity_cold = alone_cpu = alone_cold = 0.0
    files = 0
    for out, seconds in cpu.items():
        if out in failed or not (build / out).exists():
            continue
        if "/Unity/" in out:
            members = [member_key(out, m) for m in re.findall(r'#include "(.*)"', (build / out[:-2]).read_text())]
            known = [cold[k] for k in members if k in cold]
            if len(known) != len(members):
                print(f"{out}: {len(members) - len(known)} member(s) not in the cold build's log")
            unity_cpu, unity_cold, files = unity_cpu + seconds, unity_cold + sum(known), files + len(known)
        elif OBJECT_DIR.sub("", out) in cold:
            alone_cpu, alone_cold = alone_cpu + seconds, alone_cold + cold[OBJECT_DIR.sub("", out)]
    print(f"unity objects: {files} files, {unity_cold:.0f} s in the cold build, {unity_cpu:.0f} s CPU as unity "
          f"({unity_cpu / max(unity_cold, 1):.2f})")
    print(f"compiled alone: {alone_cold:.0f} s in the cold build, {alone_cpu:.0f} s CPU here")
    print(f"cold build: {sum(cold.values()):.0f} s over {len(cold)} outputs; failed here: {len(failed)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
