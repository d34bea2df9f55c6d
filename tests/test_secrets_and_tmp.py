"""No secret in what the kit writes, and no file in a shared /tmp that another user can plant (issue 25 items
6 and 8): the kit's one `redact`, run through the real command line and nox, and the build lock's folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KIT

from tlkit.base.errors import KitError
from tlkit.base.locks import exclusive
from tlkit.base.paths import private_tmp
from tlkit.base.redact import redact, redact_data

SECRET = "s3cr3t"


@pytest.mark.parametrize(("given", "shown"), [
    ("http://h/x|bearer-token=abc" + SECRET, "http://h/x|bearer-token=***"),
    ("http://h/x @bearer-token=" + SECRET, "http://h/x @bearer-token=***"),
    (f"http://{SECRET}@h/x", "http://***@h/x"),
    (f"http://user:se/{SECRET}@h/x", "http://user:***@h/x"),
    (f"http://user:p@ss{SECRET}@h/x read-only", "http://user:***@h/x read-only"),
    (f"redis://:{SECRET}@127.0.0.1:6379", "redis://:***@127.0.0.1:6379"),
    (f"--cache-remote=http://u:{SECRET}@h:8080/c|layout=flat", "--cache-remote=http://u:***@h:8080/c|layout=flat"),
    (f"CCACHE_TOKEN={SECRET} next", "CCACHE_TOKEN=*** next"),
    (f"Authorization: Bearer {SECRET}", "Authorization: Bearer ***"),
    ("http://host:8080/ccache and file:/shared/ccache, num_tokens=128", None),  # nothing secret: unchanged
])
def test_redact(given, shown):
    assert redact(given) == (given if shown is None else shown)


def test_a_secret_option_and_a_value_under_a_secret_name_are_hidden():
    assert redact(f"pip --password {SECRET} --jobs 2 --api-key {SECRET}") == "pip --password *** --jobs 2 --api-key ***"
    assert redact("--token --verbose") == "--token --verbose"  # an option after it is not its value
    assert redact_data({"password": SECRET, "api_key": SECRET, "jobs": "2"}) == {"password": "***", "api_key": "***",
                                                                             "jobs": "2"}


def test_redact_data_reaches_every_string():
    data = {"source": {"url": f"https://u:{SECRET}@git.example/x.git"}, "list": [f"http://{SECRET}@h/"], "n": 1}
    assert SECRET not in repr(redact_data(data)) and redact_data(data)["n"] == 1


def test_every_line_the_kit_prints_is_redacted(tmp_path):
    """argparse echoes the bad value, the kit's own error names the setting: neither shows the password."""
    url = f"http://user:{SECRET}@127.0.0.1:1/ccache"
    bad_jobs = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--jobs", url], capture_output=True,
                              text=True, cwd=tmp_path)
    bad_scheme = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--cache-remote",
                                 f"ftp://user:{SECRET}@h/"], capture_output=True, text=True, cwd=tmp_path)
    assert bad_jobs.returncode == 2 and "invalid int value" in bad_jobs.stderr
    assert bad_scheme.returncode == 2 and "must be a file:, http: or redis: URL" in bad_scheme.stderr
    for res in (bad_jobs, bad_scheme):
        assert SECRET not in res.stdout + res.stderr and "user:***@" in res.stderr


def test_nox_does_not_echo_a_cache_remote_password(tmp_path):
    """nox echoes the command it runs: the noxfile moves --cache-remote into $TLKIT_CACHE_REMOTE first."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run([sys.executable, "-m", "nox", "--noxfile", str(KIT / "noxfile.py"), "--envdir",
                          str(tmp_path / "nox"), "--no-venv", "--no-install", "-s", "build-wheel", "--",
                          "--recipe", str(tmp_path / "missing.toml"), "--cache-remote",
                          f"http://user:{SECRET}@127.0.0.1:1/ccache"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0
    assert "python -m tlkit build-wheel --recipe" in res.stderr  # nox's echo is there, without the URL
    assert SECRET not in res.stdout + res.stderr
    assert f"tlkit: error: {tmp_path / 'missing.toml'}: [-] file not found" in res.stdout + res.stderr


@pytest.fixture
def tmpdir_env(tmp_path, monkeypatch) -> Path:
    """The kit's temporary folder moved to a fresh one ($TMPDIR), so that a test can plant names in it."""
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads $TMPDIR again
    return tmp_path


def test_the_lock_folder_is_this_users_and_private(tmpdir_env):
    folder = private_tmp("tlkit-locks")
    assert folder == tmpdir_env / f"tlkit-locks-{os.getuid()}"
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == os.getuid()
    assert private_tmp("tlkit-locks") == folder  # found again as it is


def test_a_planted_symlink_for_the_lock_folder_is_refused(tmpdir_env):
    target = tmpdir_env / "elsewhere"
    target.mkdir(mode=0o700)
    (tmpdir_env / f"tlkit-locks-{os.getuid()}").symlink_to(target)
    with pytest.raises(KitError, match=r"tlkit-locks-\d+ is not a folder \(a symlink or a file planted there\?\)"):
        private_tmp("tlkit-locks")


def test_a_lock_folder_others_may_write_is_refused(tmpdir_env):
    folder = tmpdir_env / f"tlkit-locks-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o1777)
    with pytest.raises(KitError, match=r"has mode 1777, others may write into it"):
        private_tmp("tlkit-locks")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_lock_folder_of_another_user_is_refused(tmpdir_env):
    folder = tmpdir_env / f"tlkit-locks-{os.getuid()}"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(KitError, match=r"belongs to uid 65534, not to this user"):
        private_tmp("tlkit-locks")


def test_a_symlink_planted_at_the_lock_is_not_followed(tmp_path):
    """A symlink at the lock's name must not let the kit create or truncate its target."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    lock = tmp_path / "build-0123.lock"
    lock.symlink_to(victim)
    with pytest.raises(KitError, match=r"cannot create the lock .*build-0123.lock"), \
            exclusive(lock, "the build folder", wait=False):
        pass
    assert victim.read_text() == "precious\n"
