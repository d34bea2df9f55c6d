"""The target's Debian packages (its python3, libpython headers, libstdc++ and what they depend on) unpacked
into a sysroot under the cache: apt-get resolves and downloads them with a private state folder (this
machine's dpkg and apt lists stay as they are), dpkg-deb -x unpacks them. Nothing is installed or run."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tlkit.base import procs
from tlkit.base.cacheentry import is_ready, staged_entry
from tlkit.base.errors import KitError
from tlkit.base.locks import exclusive
from tlkit.wheel.cross.arch import Arch, DebianSource
from tlkit.wheel.cross.debian import find_or_install


def sysroot_key(arch: Arch, source: DebianSource) -> str:
    text = "\n".join([arch.debian, arch.emulated_cpu, *source.suites, *source.security_suites, source.mirror,
                      *sorted(source.packages)])
    return f"debian-{arch.debian}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _apt_config(state: Path, arch: Arch, source: DebianSource) -> Path:
    for sub in ("lists/partial", "archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "status").touch()
    lines = [f"deb [arch={arch.debian} signed-by={source.keyring}] {source.mirror} {s} main" for s in source.suites]
    lines += [f"deb [arch={arch.debian} signed-by={source.keyring}] {source.security_mirror} {s} main"
              for s in source.security_suites]
    (state / "sources.list").write_text("\n".join(lines) + "\n")
    conf = state / "apt.conf"
    conf.write_text("\n".join([
        f'APT::Architecture "{arch.debian}";', f'APT::Architectures {{ "{arch.debian}"; }};',
        f'Dir::State "{state}/";', f'Dir::State::Lists "{state}/lists/";', f'Dir::State::status "{state}/status";',
        f'Dir::Cache "{state}/";', f'Dir::Cache::archives "{state}/archives/";',
        f'Dir::Etc::SourceList "{state}/sources.list";', 'Dir::Etc::SourceParts "/nonexistent";',
        'Dir::Etc::Preferences "/nonexistent";', 'Dir::Etc::PreferencesParts "/nonexistent";', ""]))
    return conf


def _apt(apt_get: str, conf: Path, *args: str) -> None:
    res = procs.run([apt_get, "-c", str(conf), "-q", *args], capture_output=True, text=True)
    if res.returncode != 0:
        last = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KitError(f"apt-get {' '.join(args)} for the target sysroot failed: {last[0]}")


def ensure_sysroot(arch: Arch, source: DebianSource, cache: Path, environ: dict[str, str], log=print) -> Path:
    """cache/sysroots/<key>: the target's Debian packages unpacked (made once, atomically, under a lock)."""
    root = cache / "sysroots" / sysroot_key(arch, source)
    if is_ready(root):
        return root
    apt_get, dpkg_deb = find_or_install(["apt-get", "dpkg-deb"], "apt", "the target sysroot", environ, log)
    if not Path(source.keyring).is_file():
        raise KitError(f"the target sysroot: the Debian archive keyring {source.keyring} is missing; "
                       "install Debian's debian-archive-keyring (apt-get install debian-archive-keyring)")
    with exclusive(root.with_name(root.name + ".lock"), f"the {arch.name} sysroot {root}", wait=True, log=log):
        if is_ready(root):
            return root
        log(f"sysroot: {arch.debian} packages {' '.join(source.packages)} and their dependencies from Debian")
        with staged_entry(root, " ".join(source.packages)) as staged:
            state = staged.parent / "apt"
            conf = _apt_config(state, arch, source)
            _apt(apt_get, conf, "update")
            _apt(apt_get, conf, "install", "--download-only", "-y", "--no-install-recommends", *source.packages)
            staged.mkdir()
            debs = sorted((state / "archives").glob("*.deb"))
            for deb in debs:
                res = procs.run([dpkg_deb, "-x", str(deb), str(staged)], capture_output=True, text=True)
                if res.returncode != 0:
                    raise KitError(f"dpkg-deb -x {deb.name} failed: {res.stderr.strip()[:300]}")
            (staged / "tlkit-packages.txt").write_text("".join(f"{d.name}\n" for d in debs))
            write_emulated_cpu(staged, arch)
    return root


def write_emulated_cpu(root: Path, arch: Arch, cores: int = 2) -> None:
    """proc/cpuinfo and the cores' MIDR_EL1 under the sysroot, which qemu-user -L shows the guest in place of this
    machine's (recipes/arches.toml, emulated_cpu, says why)."""
    if not arch.emulated_cpu:
        return
    implementer, part = (int(x, 16) for x in arch.emulated_cpu.split(":"))
    block = ("processor\t: {i}\nBogoMIPS\t: 2000.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 "
             "atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x{impl:02x}\n"
             "CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0x{part:03x}\nCPU revision\t: 0\n\n")
    (root / "proc").mkdir(parents=True, exist_ok=True)
    (root / "proc" / "cpuinfo").write_text("".join(block.format(i=i, impl=implementer, part=part)
                                                   for i in range(cores)))
    midr = (implementer << 24) | (0xF << 16) | (part << 4)
    for i in range(cores):
        folder = root / "sys" / "devices" / "system" / "cpu" / f"cpu{i}" / "regs" / "identification"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "midr_el1").write_text(f"0x{midr:016x}\n")
