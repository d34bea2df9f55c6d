"""verify-sm120's matrix over the worker engine (workers.py): `jobs` job servers
(tlkit.verify.subject.compile_variants), each importing TileLang once and forking one child per variant; each child
compiles the variant's targets in turn, every target under the hard bound (the variant's own where the table
sets one), and a child that passes it is killed as a group (the next one carries on)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.paths import folder_name
from tlkit.verify.variants import Variant
from tlkit.verify.workers import ForkServer, Run, ServerGone, attach_logs, log_tail, subject_argv, watch


@dataclass(frozen=True)
class RunContext:
    python: Path
    module: Path
    cuobjdump: Path
    env: dict[str, str]
    bound: float
    workdir: Path


class Job:
    """One job slot: its fork server, started on first use and again after it died."""

    def __init__(self, ctx: RunContext, number: int):
        self.ctx, self.number = ctx, number
        self.server: ForkServer | None = None

    def ready(self, variant: Variant, target: str) -> Run | None:
        """A running server, or the record of the target that its start-up failed."""
        if self.server is not None:
            return None
        spec = {"module": str(self.ctx.module), "cuobjdump": str(self.ctx.cuobjdump)}
        argv = subject_argv(self.ctx.python, "compile_variants")
        self.server = ForkServer(argv, spec, self.ctx.env, self.ctx.workdir, f"job-{self.number}")
        started = self.server.start(self.ctx.bound)
        if started.stopped:
            return None
        self.close()
        failed = started.failure(variant, target)
        failed.log = str(started.child.log_file)
        return failed

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def run(self, variant: Variant, targets: list[str], retry: bool = True) -> list[Run]:
        """One child for `targets`: a result for every target it started; it stops after a timeout or crash. A
        server that ends when asked to fork is started again once; the second time is a "crash" of the target."""
        failed = self.ready(variant, targets[0])
        if failed is not None:
            return [failed]
        workdir = self.ctx.workdir / folder_name(variant.name)
        task = {"factory": variant.kernel, "kwargs": variant.kwargs, "targets": targets, "workdir": str(workdir)}
        try:
            child = self.server.fork(task, workdir, targets[0])
        except ServerGone as gone:
            log = self.server.process.log_file
            self.close()
            if retry:
                return self.run(variant, targets, retry=False)
            return [Run(variant, targets[0], "crash", error=f"the job server ended when asked to fork, twice "
                        f"({gone}): {log_tail(log)}", stage="fork a child", log=str(log))]
        bound = variant.compile_bound(self.ctx.bound)
        seen = watch(child, bound, lambda ev: bound if ev.get("event") == "begin" else None)
        runs = []
        for r in seen.results:
            key = r.pop("key")
            runs.append(Run(variant, key, r.pop("status"), r.pop("seconds", seen.elapsed[key]), r.pop("error", ""),
                            r.pop("stage"), data={k: v for k, v in r.items() if k != "event"}))
        failed = seen.failure(variant, targets[0])
        if failed is not None:
            runs.append(failed)
        attach_logs(runs, child.log_file)
        return runs

    def run_variant(self, variant: Variant, targets: list[str]) -> list[Run]:
        """Every target of one variant, a new child after a timeout or crash."""
        done: list[Run] = []
        while len(done) < len(targets):
            todo = [t for t in targets if t not in {r.key for r in done}]
            done += self.run(variant, todo)
        return done


def run_matrix(variants: list[Variant], targets: list[str], ctx: RunContext, jobs: int,
               on_result: Callable[[Run, int, int], None] = lambda r, i, n: None) -> list[Run]:
    """Every variant x target, `jobs` at a time; results in table order, reported as they finish."""
    total = len(variants) * len(targets)
    todo: queue.Queue[Variant] = queue.Queue()
    for v in variants:
        todo.put(v)
    lock = threading.Lock()
    by_variant: dict[Variant, list[Run]] = {}
    failures: list[BaseException] = []
    finished = 0

    def work(number: int) -> None:
        nonlocal finished
        job = Job(ctx, number)
        try:
            while True:
                try:
                    variant = todo.get_nowait()
                except queue.Empty:
                    return
                runs = job.run_variant(variant, targets)
                with lock:
                    by_variant[variant] = runs
                    for r in runs:
                        finished += 1
                        on_result(r, finished, total)
        except BaseException as exc:  # raised again below, in the caller's thread
            failures.append(exc)
        finally:
            job.close()

    # Daemon threads: an interrupted kit does not wait for them. Its job servers see their control sockets close
    # (or get their parent-death signal) and kill their running child's process group before they exit.
    threads = [threading.Thread(target=work, args=(n,), name=f"verify-job-{n}", daemon=True)
               for n in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return [r for v in variants for r in sorted(by_variant[v], key=lambda r: targets.index(r.key))]
