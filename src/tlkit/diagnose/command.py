"""The diagnose command: arguments, live progress, one verdict line per process with its evidence, JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from tlkit.base import procs
from tlkit.base.errors import KitError
from tlkit.base.redact import redact_data
from tlkit.diagnose import gpu_look, procfs
from tlkit.diagnose.evidence import Observed, sample_tree
from tlkit.diagnose.verdict import Verdict, add_gpu_look, judge, missing, wants_gpu_look


def _pid(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a PID")
    return int(text)


def add_diagnose_parser(sub) -> None:
    p = sub.add_parser("diagnose", help="say where running processes (and their children) are stuck")
    p.add_argument("pids", nargs="+", type=_pid, metavar="PID", help="process IDs; each one's descendants too")
    p.add_argument("--seconds", type=float, default=3.0, help="sampling window (default 3 s)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the verdicts as JSON ('-': stdout only)")
    p.add_argument("--no-native", action="store_true", help="Python stacks only (skip py-spy --native)")
    look = p.add_mutually_exclusive_group()
    look.add_argument("--gpu", dest="gpu", action="store_const", const=True, default=None,
                      help="look at the GPU with cuda-gdb (kernels resident, warps, PC and line) for every process "
                           "of the tree that uses a GPU; default: only for a process stuck waiting for the GPU")
    look.add_argument("--no-gpu", dest="gpu", action="store_const", const=False,
                      help="never attach cuda-gdb (an attach pauses the process and its GPU work for seconds)")
    p.add_argument("--all", action="store_true", help=f"allow PID 1 or a tree of more than {MAX_PROCESSES} processes")
    p.set_defaults(func=cmd_diagnose)


MAX_PROCESSES = 256  # a job's tree (torchrun, 8 ranks, their compilers) is far smaller; a whole machine is not


def diagnose(pids: list[int], seconds: float = 3.0, native: bool = True, on_sample=None,
             whole_machine: bool = False, gpu: bool | None = None) -> list[Verdict]:
    """Verdicts for `pids` and their descendants; compilers are evidence of their parent, not verdicts. The
    diagnosing process, what it starts (py-spy, cuda-gdb) and its ancestors (the shell, nox) are left out; PID 1
    or a tree of more than MAX_PROCESSES is refused unless `whole_machine` (every process py-spied, for
    minutes). `gpu`: True looks at the GPU of every process that uses one, False never, None when a process is
    stuck waiting for it."""
    if not 0 < seconds < 3600:  # nan fails this too
        raise KitError(f"--seconds must be more than 0 and less than 3600, got {seconds:g}")
    if not whole_machine and not any(procfs.exists(pid) for pid in pids):  # bad input: one line each, no window
        return [missing(pid) for pid in pids]
    me = os.getpid()
    lineage = frozenset(procfs.ancestors(me))
    if not whole_machine:
        tree = procs.children_map()
        for pid in pids:
            count = 1 + len(procs.descendants(pid, tree, frozenset({me})))
            if pid == 1 or count > MAX_PROCESSES:
                what = "the whole machine" if pid == 1 else f"more than {MAX_PROCESSES}"
                raise KitError(f"PID {pid} heads {count} processes ({what}): name the job's own PIDs, "
                               "or pass --all to sample every one")
    sampling = sample_tree(pids, seconds, native, on_sample, skip=lineage, prune=frozenset({me}))
    verdicts = [Verdict(pid, str(pid), "left-out", "diagnose's own process or one of its ancestors (a shell, nox): "
                        "left out; its other descendants are diagnosed") for pid in pids if pid in lineage | {me}]
    for pid, obs in sampling.observed.items():
        sample = obs.first
        if pid not in pids and sample is not None and sample.is_compiler():
            continue
        v = judge(obs, sampling)
        if v.kind not in ("missing", "exited") and _look_wanted(gpu, v, obs):
            add_gpu_look(v, _gpu_looks(obs, v))
        verdicts.append(v)
    return verdicts


def _look_wanted(gpu: bool | None, v: Verdict, obs: Observed) -> bool:
    """--gpu: every process that holds GPU memory (nvidia-smi) or waits for the GPU; default: those stuck so."""
    if gpu is None:
        return wants_gpu_look(v, obs)
    return gpu and (bool(obs.gpu_mib) or v.kind in ("gpu", "collective"))


def _gpu_looks(obs: Observed, v: Verdict) -> list[gpu_look.GpuLook]:
    """One look; a second one when the first saw kernels and nothing yet says the process is stuck: the same
    launch resident at both is."""
    names = gpu_look.state_kernel_names(obs.state)
    looks = [gpu_look.look(obs.pid, names)]
    if looks[0].kernels and v.progressing is not False:
        looks.append(gpu_look.look(obs.pid, names))
    return looks


def cmd_diagnose(args: argparse.Namespace) -> int:
    to_json = args.json is not None
    if to_json and str(args.json) != "-" and not args.json.parent.is_dir():
        raise KitError(f"--json {args.json}: the folder {args.json.parent} does not exist")
    quiet = to_json and str(args.json) == "-"
    out = sys.stderr if quiet else sys.stdout

    def progress(k: int, n: int) -> None:
        if k == 1:
            print(f"sampling {len(args.pids)} process tree(s) for {args.seconds:g} s ...", file=sys.stderr)

    verdicts = diagnose(args.pids, args.seconds, not args.no_native, progress, whole_machine=args.all, gpu=args.gpu)
    for v in verdicts:
        print(v.line(), file=out)
        if v.kind == "not-python":  # one line each (the evidence stays in the JSON): a shell, ninja, sleep
            continue
        for line in v.evidence:
            print(f"    {line}", file=out)
    if to_json:
        text = json.dumps(redact_data([asdict(v) for v in verdicts]), indent=2, default=str)
        if quiet:
            print(text)
        else:
            args.json.write_text(text + "\n")
            print(f"JSON: {args.json}", file=out)
    gone = [v for v in verdicts if v.kind == "missing"]
    return 2 if gone else 0

