"""From evidence to one verdict per process: compiling, waiting for the GPU, waiting in a collective,
running native code, spinning in Python, waiting on a lock (or deadlocked), sleeping or blocked in I/O; and
whether anything moved during the sampling window.

Order of the checks: the kit wheel's state file first (it knows the kernel and stage), then compiler
children, then the stacks of every thread (GPU and collective waits), then the thread that used the CPU,
then threads blocked on locks, then the main thread's wait."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tlkit.diagnose import procfs
from tlkit.diagnose.evidence import Observed, Sampling
from tlkit.diagnose.stacks import Dump, Frame, ThreadStack

GPU_WAIT_NATIVE = ("cuStreamSynchronize", "cudaStreamSynchronize", "cuCtxSynchronize", "cudaDeviceSynchronize",
                   "cuEventSynchronize", "cudaEventSynchronize", "cuMemcpy", "cudaMemcpy", "cuLaunchKernel",
                   "cudaLaunchKernel", "cuStreamWaitEvent")
GPU_WAIT_PYTHON = ("synchronize",)
COLLECTIVE_FILES = ("distributed_c10d.py",)
COLLECTIVE_WRAPPERS = ("wrapper", "_wrapper", "inner")
IO_NATIVE = ("read", "recv", "recvfrom", "recvmsg", "poll", "ppoll", "select", "pselect", "epoll_wait", "accept",
             "accept4", "__libc_read", "__libc_recv", "connect")
IO_WCHAN = ("pipe_read", "anon_pipe_read", "pipe_wait", "do_select", "do_sys_poll", "ep_poll", "unix_stream_read",
            "sk_wait_data", "wait_woken", "inet_csk_accept", "n_tty_read", "tty_read")
COMPILE_PATHS = ("tilelang/jit/", "tilelang/engine/", "tilelang/transform/", "tvm/")
SPIN_CPU = 0.5
# What a thread blocked under a Python frame waits for. First the Python function, when it is one of
# threading.py's that block on a lock to wait for something else; then the native frames the Python frame
# called, nearest the Python code first, matched as lower-case parts of their names (a condition
# variable's wait takes a mutex again, a lock's acquire waits on a semaphore: the outer call says what).
THREADING_WAITS = {"wait": "a condition or event", "_wait_for_tstate_lock": "a thread to finish"}
WORK = "work"
# Python functions (py-spy's short file name, qualified name) that wait for work to arrive: an idle pool's
# worker, a consumer at its queue. SimpleQueue.get blocks on a lock underneath, yet an idle
# ThreadPoolExecutor is idle, never deadlocked; so these are matched first, on the innermost frame outside
# threading.py (a task the worker runs is a frame inside `_worker` and is judged on its own frames).
WORK_WAITS = (("concurrent/futures/thread.py", "_worker"), ("queue.py", "Queue.get"),
              ("multiprocessing/queues.py", "Queue.get"), ("multiprocessing/queues.py", "SimpleQueue.get"))
NATIVE_WAITS = ((("simplequeue_get",), WORK),
                (("condition_variable", "pthread_cond_", "condvar", "sem_wait", "sem_timedwait", "sem_clockwait",
                  "pyevent_wait"), "a condition or event"),
                (("pthread_join", "join_thread", "threadhandle_join"), "a thread to finish"),
                (("acquire_lock", "lock_acquire", "mutex", "lll_lock", "rwlock", "futex"), "a lock"))
LOCK = "a lock"
# Threads that a torch.distributed backend starts, by the name Linux keeps for them (/proc/PID/task/TID/comm,
# 15 characters). nccl: ProcessGroupNCCL's watchdog and heartbeat monitor (c10::setThreadName in
# torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp, Watchdog::run and HeartbeatMonitor::runLoop; read in
# PyTorch's source, as torch 2.13.0 from PyPI here is a CPU build without NCCL). gloo: seen in a gloo process
# group on this machine (torch 2.13.0+cpu; tests/test_diagnose.py).
PROCESS_GROUP_THREADS = {"pt_nccl_watchdg": "nccl", "pt_nccl_heartbt": "nccl",
                         "gloo_tcp_loop": "gloo", "pt_gloo_runloop": "gloo"}


@dataclass
class Verdict:
    pid: int
    label: str
    kind: str  # compiling | gpu | collective | native | spinning | deadlock | lock | io | sleeping | not-python |
    #            exited | missing | left-out | unknown
    summary: str
    progressing: bool | None = None
    evidence: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def line(self) -> str:
        status = {True: "PROGRESSING", False: "STUCK", None: ""}[self.progressing]
        return f"PID {self.label}: " + (f"{status}: " if status else "") + self.summary


def _main_stack(dump: Dump, pid: int) -> ThreadStack | None:
    return next((t for t in dump.threads if t.tid == pid), dump.threads[0] if dump.threads else None)


def _native_names(thread: ThreadStack) -> list[str]:
    return [f.name for f in thread.frames if f.native]


def process_group(obs: Observed) -> str | None:
    """The backend of the process's torch.distributed process group, from its threads' names, else from
    the kit wheel's state file; None when neither shows one."""
    for t in obs.last.threads:
        if t.name in PROCESS_GROUP_THREADS:
            return PROCESS_GROUP_THREADS[t.name]
    return ((obs.state or {}).get("distributed") or {}).get("backend")


def _backend(obs: Observed, dump: Dump) -> str | None:
    """The process group's backend, else the one any thread's name or native frame names (the waiting
    thread itself is in c10d::Work::wait, which says neither)."""
    names = " ".join(t.name for t in obs.last.threads).lower()
    natives = " ".join(" ".join(_native_names(t)) for t in dump.threads).lower()
    return process_group(obs) or next((b for text in (names, natives) for b in ("nccl", "gloo") if b in text), None)


def peer_wait(obs: Observed) -> str | None:
    """Why a wait for the GPU may be a collective: NCCL's run on the GPU, so a rank whose peer is stuck
    waits in a synchronisation, not in the collective's call. Said only when the process has a process
    group and the launch watchdog found its stall in work that is not a TileLang kernel it saw start."""
    stall = (obs.state or {}).get("stall") or {}
    backend = process_group(obs)
    if backend is None or not stall.get("foreign"):
        return None
    return f"this may be a collective waiting for a peer ({backend}{_rank(obs)})"


def _collective(thread: ThreadStack) -> str | None:
    """The torch.distributed operation the thread is inside, if any (the public API's name)."""
    for frame in reversed(thread.python_frames()):  # outermost first
        if frame.file.endswith(COLLECTIVE_FILES) and frame.name not in COLLECTIVE_WRAPPERS:
            return frame.name
    if any("c10d::" in name and "wait" in name.lower() for name in _native_names(thread)):
        return "a collective (c10d::Work::wait)"
    return None


def watchdog_names(stall: dict | None) -> str:
    """What the kit wheel's launch watchdog found (its state file's stall): the kernel that started and has not
    finished, else work that is not TileLang's between two launches, else its candidates; "" without a stall."""
    if not stall:
        return ""
    launch = lambda b: f"#{b.get('seq')} {b.get('kernel')}"  # noqa: E731
    if stall.get("stuck"):
        return f"the launch watchdog: {launch(stall['stuck'])} started and has not finished"
    done, blocked = stall.get("last_completed"), stall.get("not_started")
    candidates = stall.get("candidates") or []
    if stall.get("foreign") and not candidates:
        return ("the launch watchdog: stuck in work that is not TileLang's, queued between "
                f"{launch(done) if done else 'the start of tracking'} (complete) and "
                f"{launch(blocked) if blocked else 'the next launch'} (not started)")
    if candidates:
        return ("the launch watchdog's candidates: " + ", ".join(launch(c) for c in candidates)
                + (", or work that is not TileLang's" if stall.get("foreign") else ""))
    first = stall.get("first_pending") or {}  # a wheel from before the attribution (no stuck/foreign fields)
    return f"the launch watchdog: {launch(first)} pending" if first else ""


def _gpu_wait(thread: ThreadStack) -> str | None:
    for name in _native_names(thread):
        if name.startswith(GPU_WAIT_NATIVE):
            return name
    inner = thread.innermost_python()
    if inner is not None and inner.name in GPU_WAIT_PYTHON and "torch/cuda" in inner.file:
        return f"torch.cuda.{inner.name}"
    return None


def _who(thread: ThreadStack, pid: int) -> str:
    return "main thread" if thread.tid == pid else f"thread {thread.tid}" + (f" ({thread.name})" if thread.name else "")


def blocked_on(thread: ThreadStack) -> tuple[str, Frame] | None:
    """(what the thread waits for, the frame it waits at: the innermost one outside threading.py), or None
    when its stack shows no such wait (native frames are needed for all but threading.py's waits)."""
    inner = thread.innermost_python()
    if inner is None:
        return None
    own = next((f for f in thread.python_frames() if not f.file.endswith("threading.py")), inner)
    if (own.file, own.name) in WORK_WAITS:
        return WORK, own
    if inner.file.endswith("threading.py") and inner.name.rsplit(".", 1)[-1] in THREADING_WAITS:
        return THREADING_WAITS[inner.name.rsplit(".", 1)[-1]], own
    for frame in reversed(thread.native_calls()):
        name = frame.name.lower()
        for parts, what in NATIVE_WAITS:
            if any(part in name for part in parts):
                return what, own
    return None


def _busy_thread(obs: Observed, threads: list[ThreadStack]) -> ThreadStack | None:
    """The thread in Python that ran: of those that used SPIN_CPU of a core over the window or were runnable
    at both looks (on a loaded machine a spinning thread gets less than a core, but it is always runnable),
    the one with the most CPU."""
    first = {t.tid: t for t in obs.first.threads}
    last = {t.tid: t for t in obs.last.threads}
    span = obs.seen[-1] - obs.seen[0] if len(obs.seen) >= 2 else 0.0
    busy, most = None, -1.0
    for t in threads:
        a, b = first.get(t.tid), last.get(t.tid)
        if a is None or b is None or t.innermost_python() is None:
            continue
        cpu = (b.cpu_ticks - a.cpu_ticks) / procfs.CLOCK_TICKS / span if span > 0 else 0.0
        if (cpu >= SPIN_CPU or a.state == b.state == "R") and cpu > most:
            busy, most = t, cpu
    return busy


def _compiling_frames(thread: ThreadStack) -> str | None:
    for frame in thread.python_frames():
        if any(p in frame.file for p in COMPILE_PATHS):
            return frame.text()
    return None


def _signature(dump: Dump) -> tuple:
    """What must change for a thread to count as moving: its Python functions, not the line inside a loop
    (a spinning loop is seen on its `while` line and its body line in turn)."""
    return tuple((t.tid, tuple((f.name, f.file) for f in t.python_frames())) for t in dump.threads)


def _state_changed(obs: Observed) -> bool:
    a, b = obs.state_first or {}, obs.state or {}
    pick = lambda s: ([c.get("stage") for c in s.get("compiles", [])],  # noqa: E731
                      (s.get("launches") or {}).get("count"))
    return pick(a) != pick(b)


def _rank(obs: Observed) -> str:
    dist = (obs.state or {}).get("distributed") or {}
    rank = dist.get("rank", obs.environ.get("RANK"))
    world = dist.get("world_size", obs.environ.get("WORLD_SIZE"))
    if rank is None:
        return ""
    return f" rank {rank}" + (f" of {world}" if world is not None else "")


def _compilers(obs: Observed, sampling: Sampling) -> list[tuple[Observed, str]]:
    """Compiler processes below `obs`, with a description."""
    out = []
    for other in sampling.observed.values():
        sample = other.last or other.first
        if sample is None or not sample.is_compiler():
            continue
        parent, seen = sample.ppid, set()
        while parent not in seen and parent in sampling.observed:
            if parent == obs.pid:
                cpu = other.cpu_fraction()
                out.append((other, f"{sample.compiler_name()} (pid {other.pid}, running {sample.age_seconds():.0f} s, "
                                   f"{cpu:.0%} CPU)"))
                break
            seen.add(parent)
            parent_sample = sampling.observed[parent].first
            parent = parent_sample.ppid if parent_sample else -1
    return out


def missing(pid: int) -> Verdict:
    """The verdict for a PID that names no process."""
    return Verdict(pid, str(pid), "missing", "no such process")


def judge(obs: Observed, sampling: Sampling) -> Verdict:
    label = obs.first.label if obs.first else str(obs.pid)
    if obs.gone == "missing":
        return missing(obs.pid)
    if obs.gone == "exited":
        return Verdict(obs.pid, label, "exited", "exited while being sampled")
    cpu = obs.cpu_fraction()
    v = Verdict(obs.pid, label + _rank(obs), "unknown", "")
    v.evidence.append(f"state {obs.last.state}, {cpu:.0%} CPU over {sampling.elapsed:.1f} s, "
                      f"{len(obs.last.threads)} thread(s)" + (f", {obs.gpu_mib} MiB on the GPU" if obs.gpu_mib else ""))
    if not obs.python:
        v.kind = "not-python"
        v.summary = f"not a Python process ({obs.last.comm}); {cpu:.0%} CPU, state {obs.last.state}"
        wchan = next((t.wchan for t in obs.last.threads if t.wchan), "")
        if wchan:
            v.evidence.append(f"kernel wait channel: {wchan}")
        return v
    dumps = [d for d in obs.dumps if d.error is None]
    for d in obs.dumps:
        v.evidence.extend(f"note: {n}" for n in d.notes)
    if not dumps:
        error = obs.dumps[0].error if obs.dumps else "no stacks"
        v.evidence.append(f"stacks: {error}")
    moved = _state_changed(obs) or (len(dumps) >= 2 and _signature(dumps[0]) != _signature(dumps[-1]))
    v.progressing = moved if dumps or obs.state is not None else None  # nothing seen: neither STUCK nor moving
    state = obs.state or {}

    # 1. compiling (kit wheel's state file, then compiler children, then stacks)
    compilers = _compilers(obs, sampling)
    compiles = state.get("compiles") or []
    if compiles:
        c = compiles[0]
        since = time.time() - float(c.get("started") or time.time())
        v.kind = "compiling"
        factory = f" (jit factory {c['factory']})" if c.get("factory") else ""
        v.summary = (f"compiling kernel `{c.get('kernel') or '?'}`{factory} for {c.get('target') or '?'}, "
                     f"stage {c.get('stage')}, for {since:.0f} s")
        v.details["compile"] = c
    elif compilers:
        v.kind = "compiling"
        v.summary = "compiling: waiting for " + ", ".join(text for _o, text in compilers)
    if compilers:
        v.evidence.extend(f"compiler child: {text}" for _o, text in compilers)
        v.details["compilers"] = [o.pid for o, _t in compilers]
        working = any(o.cpu_fraction() > 0.05 for o, _t in compilers)
        if working:
            v.progressing = True
        elif not moved:
            v.progressing = False
    stall = state.get("stall")
    if stall:
        first = stall.get("first_pending") or {}
        v.evidence.append(f"launch watchdog: {first.get('kernel')} ({first.get('factory')}) pending for "
                          f"{_age(first)}; {stall.get('verdict')}; report {stall.get('report')}")
    pending = (state.get("launches") or {}).get("pending") or []
    if pending:
        p = pending[0]
        v.evidence.append(f"oldest pending TileLang launch: #{p.get('seq')} {p.get('kernel')} ({p.get('factory')}), "
                          f"launched {_age(p)} ago")
    if v.kind == "compiling":
        _add_stacks(v, dumps, obs.pid)
        return v

    thread = _main_stack(dumps[-1], obs.pid) if dumps else None
    threads = list(dumps[-1].threads) if dumps else []
    # 2. waiting for the GPU, 3. in a collective: any thread, the main thread first
    ordered = ([thread] if thread else []) + [t for t in threads if t is not thread]
    # the launch watchdog's candidates, oldest first: named in a GPU wait, and in a collective whose own GPU work
    # is stuck (gloo's collectives on CUDA tensors wait for the stream inside the call)
    named = watchdog_names(stall)
    for t in ordered:
        gpu = _gpu_wait(t)
        op = _collective(t)
        if op is not None:
            backend = (_backend(obs, dumps[-1]) or (state.get("distributed") or {}).get("backend")
                       or "backend not seen")
            v.kind = "collective"
            v.summary = f"waiting in a collective: torch.distributed {op} ({backend}{_rank(obs)})"
            if named:
                v.summary += f"; its own GPU work is stalled: {named}"
            v.details.update(operation=op, backend=backend, thread=t.tid)
            break
        if gpu is not None:
            v.kind = "gpu"
            if stall or _pending_through(obs, sampling.seconds):
                v.progressing = False  # the GPU work it waits for has not completed: a moving CPU stack is no progress
            if stall:
                pend = f"; {named}" if named else ""
            elif pending:
                pend = f"; pending TileLang launch {pending[0].get('kernel')} ({pending[0].get('factory')})"
            else:
                pend = ""
            hint = peer_wait(obs)
            v.summary = f"waiting for the GPU in {gpu}{pend}" + (f"; {hint}" if hint else "")
            v.details.update(call=gpu, thread=t.tid, peer_wait=hint)
            break
    if v.kind == "unknown" and thread is not None:
        _judge_threads(v, obs, ordered, len(dumps) if len(dumps) >= 2 and not moved else 0)
    elif v.kind == "unknown":
        v.summary = f"no stacks ({v.evidence[-1]}); {cpu:.0%} CPU"
    _add_stacks(v, dumps, obs.pid)
    return v


def _age(launch: dict) -> str:
    """How long ago a launch of the state file was made (schema /2 keeps times; /1 kept an age as well)."""
    launched = launch.get("launched")
    return f"{time.time() - launched:.0f} s" if isinstance(launched, (int, float)) else f"{launch.get('age_s')} s"


def _pending_through(obs: Observed, window: float) -> bool:
    """The kit wheel's state file shows the same TileLang launch not complete at the start and at the end of the
    window, launched longer than the window ago: the GPU work the process waits for has not moved."""
    def pending(state: dict | None) -> dict[int, dict]:
        return {p.get("seq"): p for p in ((state or {}).get("launches") or {}).get("pending") or []}

    first, last = pending(obs.state_first), pending(obs.state)
    return any(isinstance(p.get("launched"), (int, float)) and time.time() - p["launched"] > window
               for seq, p in last.items() if seq in first)


def gpu_wait_through(obs: Observed) -> bool:
    """The same thread waits for the GPU in the first and the last sample: a wait that lasted the window."""
    dumps = [d for d in obs.dumps if d.error is None]
    if len(dumps) < 2:
        return False
    first = {t.tid for t in dumps[0].threads if _gpu_wait(t)}
    return any(t.tid in first and _gpu_wait(t) for t in dumps[-1].threads)


def wants_gpu_look(v: Verdict, obs: Observed) -> bool:
    """By default the GPU is looked at only when the process is stuck waiting for it: the launch watchdog has
    reported a stall, or the same wait lasted through the window (an attach pauses the process for seconds)."""
    if v.kind not in ("gpu", "collective"):
        return False
    return bool((obs.state or {}).get("stall")) or v.progressing is False or gpu_wait_through(obs)


def add_gpu_look(v: Verdict, looks: list) -> None:
    """Put what cuda-gdb saw into the verdict: the summary names what runs on the GPU; two looks that saw the
    same launch resident make it STUCK, whatever the CPU stack did."""
    from tlkit.diagnose.gpu_look import same_launches

    last = looks[-1]
    v.details["gpu_look"] = [{"seconds": round(g.seconds, 2), "error": g.error,
                              "kernels": [vars(k) for k in g.kernels], "cuda_gdb_output": g.raw} for g in looks]
    if last.error:
        v.evidence.append(last.summary())
        return
    v.summary += "; " + last.summary()
    took = ", ".join(f"{g.seconds:.1f} s" for g in looks)
    v.evidence.append(f"cuda-gdb looked {len(looks)} time(s) ({took}); the process was paused meanwhile and went on")
    if len(looks) >= 2:
        held = same_launches(looks[0], looks[-1])
        if held:
            v.progressing = False
            v.evidence.append("resident at both looks (same grid): " + ", ".join(k.name for k in held))


def _judge_threads(v: Verdict, obs: Observed, threads: list[ThreadStack], unchanged: int) -> None:
    """No compile, GPU or collective wait: the thread that ran, else the threads blocked on locks, else the
    main thread's wait. `threads`: the last dump's, the main thread first; `unchanged`: how many samples
    showed the same Python frames (0 when they moved)."""
    waits = [(t, *w) for t in threads if (w := blocked_on(t))]
    locks = [(t, frame) for t, what, frame in waits if what == LOCK]
    busy = _busy_thread(obs, threads)
    same = f", the same Python frames in {unchanged} samples" if unchanged else ""
    if busy is not None:
        inner = busy.innermost_python()
        where = "" if busy.tid == obs.pid else f" in {_who(busy, obs.pid)}"
        called = busy.native_calls()
        if called and blocked_on(busy) is None:
            named = next((f for f in called if not f.name.startswith("0x")), called[0])
            v.kind = "native"
            v.summary = (f"running native code in {named.name} ({named.library or named.file}) under "
                         f"{inner.text()}{where}{same}")
            v.details.update(symbol=named.name, library=named.library, thread=busy.tid)
        else:
            compiling = _compiling_frames(busy)
            v.kind = "spinning"
            v.summary = (f"spinning in Python at {inner.text()}{where}"
                         + (f" (TileLang/TVM code: {compiling})" if compiling else "") + same)
            v.details.update(thread=busy.tid)
        return
    v.evidence.extend(f"{_who(t, obs.pid)} waits for {what} at {frame.text()}" for t, what, frame in waits)
    if len(locks) >= 2:
        v.kind = "deadlock"
        v.summary = (f"deadlock? {len(locks)} threads waiting on locks, none running: "
                     + "; ".join(f"{_who(t, obs.pid)} at {frame.text()}" for t, frame in locks))
        v.details["locks"] = [{"thread": t.tid, "frame": frame.text()} for t, frame in locks]
        return
    if locks:
        t, frame = locks[0]
        v.kind = "lock"
        v.summary = f"waiting on a lock at {frame.text()}" + ("" if t.tid == obs.pid else f" in {_who(t, obs.pid)}")
        v.details.update(thread=t.tid, frame=frame.text())
        return
    main = threads[0]
    inner = main.innermost_python()
    natives = _native_names(main)
    wchan = next((ts.wchan for ts in obs.last.threads if ts.tid == obs.pid), "")
    io = (natives and natives[0].split("@")[0].lstrip("_") in {n.lstrip("_") for n in IO_NATIVE}) or \
        wchan.startswith(IO_WCHAN)
    v.kind = "io" if io else "sleeping"
    v.progressing = None  # waiting is what an idle process (a launcher's monitor loop) does too
    idle = sum(what == WORK for _t, what, _f in waits)
    v.summary = (f"blocked in I/O ({natives[0] if natives else wchan})" if io else
                 f"sleeping ({natives[0] if natives else wchan or 'no native frame'})") + (
        f" at {inner.text()}" if inner else "") + (f"; {idle} thread(s) waiting for work" if idle else "")


def _add_stacks(v: Verdict, dumps: list[Dump], pid: int) -> None:
    if not dumps:
        return
    for t in dumps[-1].threads:
        frames = t.frames[:8]
        if not frames:
            continue
        v.evidence.append(f"{_who(t, pid)}: " + " <- ".join(f.text() for f in frames))
