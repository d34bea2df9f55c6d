"""verify-sm120's job server: imports TileLang and the kernel module once, then forks one child per task (a
variant's targets, compiled in turn), so that no compile pays for an interpreter and `import tilelang`.

    python -m tlkit.verify.subject.compile_variants SPEC   (started by tlkit.verify.workers.ForkServer)

Each task arrives on the control socket with the write end of the child's own event pipe. The child makes
itself a process group (the kit's worker engine dumps its stacks and kills that group at the bound), dies with this
server (parent-death signal), and writes its output to the task's log. Nothing here touches CUDA: verify-sm120
compiles without a GPU, and a process that has initialised CUDA must not fork (checked before every fork)."""

import contextlib
import json
import os
import select
import signal
import socket
import sys
import time
import traceback

from tlkit.base.procs import die_with_parent, end_group
from tlkit.verify.subject.compiled import (
    compile_factory,
    dynamic_smem,
    elaborate,
    first_error_line,
    inspect_cubin,
    shared_buffers,
    source_hashes,
)
from tlkit.verify.subject.protocol import (
    Events,
    dump_stacks_on_sigusr1,
    factory_in,
    load_module,
    start,
)


def compile_target(factory, kwargs, arch, cuobjdump, workdir, events):
    from tvm.target import Target

    events.emit(event="stage", stage="elaborate (build the TIR from the factory)")
    prim_func = elaborate(factory, kwargs)
    buffers = shared_buffers(prim_func)
    events.emit(event="stage", stage="compile (lower, codegen, nvcc, load)")
    begun = time.perf_counter()
    kernel = compile_factory(prim_func, factory, Target({"kind": "cuda", "arch": arch}))
    seconds = time.perf_counter() - begun
    events.emit(event="stage", stage="inspect (cubin, shared memory)")
    source = kernel.get_kernel_source()
    with open(os.path.join(workdir, f"{arch}.cu"), "w") as f:
        f.write(source)
    return {"seconds": seconds, **source_hashes(source), "dynamic_smem": dynamic_smem(kernel), "buffers": buffers,
            **inspect_cubin(kernel, cuobjdump, workdir, arch)}


def run_task(task, module, spec, events):
    factory = factory_in(module, spec["module"], task["factory"])
    for arch in task["targets"]:
        events.begin(arch)
        try:
            result = compile_target(factory, task["kwargs"], arch, spec["cuobjdump"], task["workdir"], events)
            events.emit(event="result", key=arch, status="ok", **result)
        except Exception as exc:  # a compile error is a result, not a crash of the worker
            traceback.print_exc()
            events.emit(event="result", key=arch, status="compile error", error=first_error_line(exc))
    events.emit(event="done")


def check_cuda_untouched():
    """Forking a process that initialised CUDA gives children a driver state they cannot use."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        raise RuntimeError("CUDA was initialised in the verify-sm120 job server; refusing to fork")


def child(task, events_fd, work, control, server):
    """In the forked child: own process group, own log and stack file, then `work(task, events)`. Never
    returns."""
    status = 1
    try:
        os.setpgid(0, 0)
        if not die_with_parent(server, signal.SIGKILL):
            os._exit(1)  # the server is already gone
        control.close()
        log = os.open(task["log_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        dump_stacks_on_sigusr1(task["stack_file"])
        work(task, Events(events_fd))
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def child_ended(pid, control):
    """Wait until child `pid` has ended (True; it is not reaped yet, so its PID and group cannot be reused) or the
    kit closed the control socket (False: the kit is gone)."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([pidfd, control], [], [])
            if pidfd in ready:
                return True
            if not control.recv(1, socket.MSG_PEEK):
                return False
    finally:
        os.close(pidfd)


class _Running:
    """The child being waited for. Its group is ended whenever it is no longer wanted: after it exits (whatever
    it started and left behind goes too, before it is reaped, so its PID cannot have been reused) and when the kit
    is gone, by the parent-death handler itself, so that the signal cannot fall between noticing and killing."""

    pid = 0

    @classmethod
    def end_group(cls):
        if cls.pid:
            end_group(cls.pid)

    @classmethod
    def parent_gone(cls, signum, frame):
        cls.end_group()
        os.killpg(0, signal.SIGKILL)  # the server leads its own group: it and anything left in it


def serve(control, work):
    """One task at a time from the kit's ForkServer: fork a child that runs `work(task, events)`, say its PID,
    wait for it, end its process group, say its exit status. Returns when the kit closes the socket or dies (its
    parent-death signal, SIGTERM, from `start`), ending the running child's group first."""
    server = os.getpid()
    replies = control.makefile("w")
    signal.signal(signal.SIGTERM, _Running.parent_gone)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        if not message:
            return
        task, (events_fd,) = json.loads(message), fds
        check_cuda_untouched()
        sys.stdout.flush()
        sys.stderr.flush()
        # Held back while the child has no PID here, so that the handler sees it. Python runs handlers in the main
        # thread whichever thread took the signal, so this narrows the window rather than closing it; a child the
        # handler misses has started nothing yet and dies with this server (its parent-death signal).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            child(task, events_fd, work, control, server)
        _Running.pid = pid
        with contextlib.suppress(OSError):  # the child may have made itself a group already, or exited
            os.setpgid(pid, pid)  # before it is signalled as a group, whichever of the two runs first
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        ended = False
        try:
            os.close(events_fd)
            replies.write(json.dumps({"pid": pid}) + "\n")
            replies.flush()
            ended = child_ended(pid, control)
        finally:
            _Running.end_group()
            _Running.pid = 0  # gone as a group; reaped next, after which the PID may belong to anyone
        if not ended:
            return
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        replies.write(json.dumps({"status": status}) + "\n")
        replies.flush()


def main():
    spec = json.loads(sys.argv[1])
    events = start(spec)
    control = socket.socket(fileno=spec["control_fd"])
    events.emit(event="stage", stage="import tilelang")
    import tilelang

    events.emit(event="stage", stage="import the kernel module", tilelang=getattr(tilelang, "__version__", "?"))
    module = load_module(spec["module"], "tlkit_verify_kernels")
    events.emit(event="ready")
    events.close()  # children get their own pipes
    serve(control, lambda task, task_events: run_task(task, module, spec, task_events))


if __name__ == "__main__":
    main()
