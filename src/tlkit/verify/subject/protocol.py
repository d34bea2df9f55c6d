"""The worker side of the worker engine's protocol (tlkit.verify.workers): JSON-line events on the inherited file
descriptor `events_fd`, Python stacks to `stack_file` on SIGUSR1, a marker line in the log per key."""

import faulthandler
import importlib.util
import json
import os
import signal
import sys

from tlkit.base.procs import die_with_parent


class Events:
    def __init__(self, fd):
        self._stream = os.fdopen(fd, "w")

    def emit(self, **event):
        self._stream.write(json.dumps(event) + "\n")
        self._stream.flush()

    def close(self):
        self._stream.close()

    def begin(self, key, **event):
        """Start `key`: a marker in the log (both streams), then the event."""
        print(f"=== tlkit: target {key} ===", flush=True)
        print(f"=== tlkit: target {key} ===", file=sys.stderr, flush=True)
        self.emit(event="begin", key=key, **event)


def dump_stacks_on_sigusr1(stack_file):
    """faulthandler writes every thread's stack to `stack_file` on SIGUSR1 (the file stays open for that)."""
    stream = open(stack_file, "w")  # noqa: SIM115 - must stay open for faulthandler
    faulthandler.register(signal.SIGUSR1, file=stream, all_threads=True)
    return stream


def _end_group(signum=None, frame=None):
    os.killpg(0, signal.SIGKILL)  # the worker leads its group: what it started goes with it


def start(spec):
    """A worker's first steps: when the spec names the kit's PID as `parent`, end this process group once the
    kit is gone (SIGTERM as the parent-death signal); then its events and its stack dump."""
    if spec.get("parent") is not None:
        signal.signal(signal.SIGTERM, _end_group)
        if not die_with_parent(spec["parent"], signal.SIGTERM):
            _end_group()
    dump_stacks_on_sigusr1(spec["stack_file"])
    events = Events(spec["events_fd"])
    events.emit(event="worker", pid=os.getpid())  # under a wrapper (compute-sanitizer) not the PID the kit started
    return events


def load_module(path, name):
    """The Python file at `path` (a kernel or case module the user names) as module `name`, once per process."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def factory_in(module, path, name):
    if not hasattr(module, name):
        raise LookupError(f"{path} has no kernel factory {name!r}")
    return getattr(module, name)
