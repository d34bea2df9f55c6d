"""Thin wiring only: each session installs the kit and calls `python -m tlkit <command>`."""

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]


def _kit(session: nox.Session) -> None:
    session.install("-q", "-e", ".")


def _tlkit(session: nox.Session, *args: str, **kwargs) -> None:
    """`python -m tlkit ARGS`, which ends with this nox process however nox ends (TLKIT_PARENT_PID: a CI
    runner's SIGTERM or SIGKILL to nox). A `--cache-remote URL` moves into $TLKIT_CACHE_REMOTE so that nox's
    echo of the command line does not show the credentials it may hold."""
    env = {"TLKIT_PARENT_PID": str(os.getpid())}
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--cache-remote" and i + 1 < len(args):
            env["TLKIT_CACHE_REMOTE"] = args.pop(i + 1)
            args.pop(i)
            break
        if arg.startswith("--cache-remote="):
            env["TLKIT_CACHE_REMOTE"] = args.pop(i).partition("=")[2]
            break
    session.run("python", "-m", "tlkit", *args, env=env, **kwargs)


@nox.session(name="build-wheel")
def build_wheel(session: nox.Session) -> None:
    """Fetch, patch and build the recipe's wheel into dist/ (-- --recipe/--cuda/--jobs/--clean)."""
    _kit(session)
    _tlkit(session, "build-wheel", *session.posargs)


@nox.session(name="patches-check")
def patches_check(session: nox.Session) -> None:
    """Report per patch: applies / already upstream / conflicts, on a scratch copy of the pinned source."""
    _kit(session)
    _tlkit(session, "patches-check", *session.posargs)


@nox.session(name="patches-export")
def patches_export(session: nox.Session) -> None:
    """Write a git tree's commits above `upstream` as the series, one folder per upstream, and list them in the
    recipe: -- TREE [--recipe R]."""
    _kit(session)
    session.run("python", "-m", "tlkit", "patches-export", *session.posargs)


@nox.session(name="verify-sm120")
def verify_sm120(session: nox.Session) -> None:
    """Compile every DeepSeek-V4-Flash kernel variant for sm_120, sm_120a, sm_121, sm_121a, bounded; report."""
    _kit(session)
    _tlkit(session, "verify-sm120", *session.posargs)


@nox.session(name="stock-sources")
def stock_sources(session: nox.Session) -> None:
    """Regenerate tests/data/stock-sources/<version>: the stock PyPI wheel's CUDA source of every variant."""
    _kit(session)
    version = session.posargs[0] if session.posargs else "0.1.14"
    # Exit 1 is verify's verdict on the variants that do not fit sm_120; the sources are saved either way.
    _tlkit(session, "verify-sm120", "--pypi", version, "--save-sources",
                f"tests/data/stock-sources/{version}", "--reports", f"build/stock-sources-reports/{version}",
                success_codes=[0, 1])


@nox.session(name="verify-aarch64")
def verify_aarch64(session: nox.Session) -> None:
    """An aarch64 wheel under qemu-user on this machine: install, import, compile verify.toml's aarch64_variants
    (one of each of the six kernels, and sparse_attn h=64) for sm_121a, each as x86_64 (source or refusal); timed,
    bounded (-- --pypi 0.1.14 for the stock wheel; default: the kit's own aarch64 wheel in dist/; -- --only
    REGEX for other variants)."""
    _kit(session)
    session.run("python", "-m", "tlkit", "verify-aarch64", *session.posargs)


@nox.session(name="verify-gpu")
def verify_gpu(session: nox.Session) -> None:
    """Run every kernel variant on the GPU present against PyTorch, under a device-hang watchdog; time it."""
    _kit(session)
    _tlkit(session, "verify-gpu", *session.posargs)


@nox.session
def doctor(session: nox.Session) -> None:
    """GPU, driver vs toolkit, shared memory, package versions, TileLang's auto target (-- --python PY)."""
    _kit(session)
    _tlkit(session, "doctor", *session.posargs)


@nox.session
def diagnose(session: nox.Session) -> None:
    """Say where running processes are stuck: -- PID [PID ...] (each with its descendants; torchrun's PID
    covers every rank)."""
    _kit(session)
    _tlkit(session, "diagnose", *session.posargs)


@nox.session
def outdated(session: nox.Session) -> None:
    """Newer upstream releases of what the recipes pin (TileLang, CUDA toolchain, apache-tvm-ffi, z3-solver, torch)
    on the package index, with an sdist or not, and a verdict per row (-- --json, --index URL)."""
    _kit(session)
    session.run("python", "-m", "tlkit", "outdated", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The default test suite (what .ci/run runs): no GPU, no slow tests."""
    session.install("-q", "-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("-q", "ruff")
    session.run("ruff", "check", ".")
