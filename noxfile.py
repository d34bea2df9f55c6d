"""Thin wiring only: each session installs the kit and calls `python -m tlkit <command>`."""

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]


def _kit(session: nox.Session) -> None:
    session.install("-q", "-e", ".")


@nox.session(name="build-wheel")
def build_wheel(session: nox.Session) -> None:
    """Fetch, patch and build the recipe's wheel into dist/ (-- --recipe/--cuda/--jobs/--clean)."""
    _kit(session)
    session.run("python", "-m", "tlkit", "build-wheel", *session.posargs)


@nox.session(name="patches-check")
def patches_check(session: nox.Session) -> None:
    """Report per patch: applies / already upstream / conflicts, on a scratch copy of the pinned source."""
    _kit(session)
    session.run("python", "-m", "tlkit", "patches-check", *session.posargs)


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
    session.run("python", "-m", "tlkit", "verify-sm120", *session.posargs)


@nox.session(name="stock-sources")
def stock_sources(session: nox.Session) -> None:
    """Regenerate tests/data/stock-sources/<version>: the stock PyPI wheel's CUDA source of every variant."""
    _kit(session)
    version = session.posargs[0] if session.posargs else "0.1.14"
    # Exit 1 is verify's verdict on the variants that do not fit sm_120; the sources are saved either way.
    session.run("python", "-m", "tlkit", "verify-sm120", "--pypi", version, "--save-sources",
                f"tests/data/stock-sources/{version}", "--reports", f"build/stock-sources-reports/{version}",
                success_codes=[0, 1])


@nox.session(name="verify-gpu")
def verify_gpu(session: nox.Session) -> None:
    """Run every kernel variant on the GPU present against PyTorch, under a device-hang watchdog; time it."""
    _kit(session)
    session.run("python", "-m", "tlkit", "verify-gpu", *session.posargs)


@nox.session
def doctor(session: nox.Session) -> None:
    """GPU, driver vs toolkit, shared memory, package versions, TileLang's auto target (-- --python PY)."""
    _kit(session)
    session.run("python", "-m", "tlkit", "doctor", *session.posargs)


@nox.session
def diagnose(session: nox.Session) -> None:
    """Say where running processes are stuck: -- PID [PID ...] (each with its descendants; torchrun's PID
    covers every rank)."""
    _kit(session)
    session.run("python", "-m", "tlkit", "diagnose", *session.posargs)


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
