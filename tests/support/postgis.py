"""A throwaway PostgreSQL + PostGIS cluster for tests.

``throwaway_postgis()`` creates a brand-new cluster in a temporary directory, listening only on
127.0.0.1 on a free port, creates the database ``mapsvc_test`` with the ``postgis`` extension,
yields its SQLAlchemy URL and, on exit (also after an exception), stops the server and removes
the directory.

PostgreSQL refuses to run as root (see /work/shared/GEOSTACK.md, trap 4): when the tests run as
root, every server binary is run as the ``postgres`` OS user through ``runuser``.

The server binaries come from ``pg_config --bindir`` (if it has ``initdb``), else from the highest
``/usr/lib/postgresql/*/bin``. If they are missing, a ``RuntimeError`` says what to install;
tests never skip silently.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DB_NAME = "mapsvc_test"
SUPERUSER = "postgres"
OS_USER = "postgres"
DEFAULT_MAJOR = "15"

_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")


def _install_hint(major: str = DEFAULT_MAJOR) -> str:
    return (
        f"install the Debian packages postgresql-{major} postgresql-{major}-postgis-3 "
        f"(`apt-get install postgresql-{major} postgresql-{major}-postgis-3`; "
        "scripts/test.sh installs them through scripts/bootstrap.sh --test); "
        f"on other systems: PostgreSQL {major} + PostGIS 3"
    )


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    try:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _major_of(bindir: Path) -> int:
    m = re.search(r"/postgresql/(\d+)/bin/?$", str(bindir))
    return int(m.group(1)) if m else -1


def find_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl/postgres, or None."""
    bindir = _pg_config_bindir()
    if bindir is not None and (bindir / "initdb").is_file():
        return bindir
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.is_file()]
    if not candidates:
        return None
    return max(candidates, key=_major_of)


def _sharedir(bindir: Path) -> Path | None:
    pg_config = bindir / "pg_config"
    if not pg_config.is_file():
        pg_config_path = shutil.which("pg_config")
        if not pg_config_path:
            return None
        pg_config = Path(pg_config_path)
    try:
        out = subprocess.run(
            [str(pg_config), "--sharedir"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def postgis_available() -> str | None:
    """None when a throwaway PostGIS cluster can be started, else a message saying why not."""
    bindir = find_bindir()
    if bindir is None:
        return "PostgreSQL server binaries (initdb) not found: " + _install_hint()
    major = str(_major_of(bindir)) if _major_of(bindir) > 0 else DEFAULT_MAJOR
    missing = [b for b in _SERVER_BINARIES if not (bindir / b).is_file()]
    if missing:
        return f"{', '.join(missing)} missing from {bindir}: " + _install_hint(major)
    sharedir = _sharedir(bindir)
    if sharedir is not None and not (sharedir / "extension" / "postgis.control").is_file():
        return f"PostGIS is not installed for the PostgreSQL in {bindir}: " + _install_hint(major)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return (
                f"running as root but there is no '{OS_USER}' OS user to run PostgreSQL as "
                "(PostgreSQL refuses to run as root): " + _install_hint(major)
            )
        if not shutil.which("runuser"):
            return "running as root but `runuser` (util-linux) is missing"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    env.pop("LANG", None)
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty server log)"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class _Cluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.tmp = Path(tempfile.mkdtemp(prefix="mapsvc-pg-"))
        self.data = self.tmp / "data"
        self.log = self.tmp / "server.log"
        self.port = 0
        self.env = _clean_env()

    # -- helpers -----------------------------------------------------------------------------
    def _cmd(self, binary: str, *args: str) -> list[str]:
        cmd = [str(self.bindir / binary), *args]
        if self.as_root:
            cmd = ["runuser", "-u", OS_USER, "--", *cmd]
        return cmd

    def _run(self, binary: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._cmd(binary, *args),
            cwd=self.tmp,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self) -> None:
        if self.as_root:
            pw = pwd.getpwnam(OS_USER)
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        base = ["-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"]
        res = self._run("initdb", *base, "--locale=C.UTF-8")
        if res.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            res2 = self._run("initdb", *base, "--no-locale")
            if res2.returncode != 0:
                raise RuntimeError(
                    "initdb failed:\n"
                    f"with --locale=C.UTF-8: {res.stdout}{res.stderr}\n"
                    f"with --no-locale: {res2.stdout}{res2.stderr}"
                )

    def start(self, attempts: int = 3) -> None:
        last = ""
        for _ in range(attempts):
            self.port = _free_port()
            opts = (
                f"-p {self.port} -k {shlex.quote(str(self.tmp))} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            res = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", opts, "start",
            )
            if res.returncode == 0:
                return
            last = f"{res.stdout}{res.stderr}\n--- server log (tail) ---\n{_tail(self.log)}"
            self.stop()  # in case a half-started server lingers
            # Retry only when another process took the port between probe and bind.
            if "Address already in use" not in last and "could not bind" not in last:
                break
        raise RuntimeError(f"PostgreSQL failed to start in {self.tmp}:\n{last}")

    def create_database(self) -> None:
        import psycopg

        conninfo = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=%s connect_timeout=10"
        with psycopg.connect(conninfo % "postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        with psycopg.connect(conninfo % DB_NAME, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")

    def stop(self) -> None:
        pid = self._postmaster_pid()
        if pid is None:
            return
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
        # Belt and braces: never leave a postmaster behind.
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)

    def remove(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DB_NAME}"


@contextlib.contextmanager
def throwaway_postgis() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a brand-new PostGIS database; remove everything afterwards."""
    problem = postgis_available()
    if problem:
        raise RuntimeError(problem)
    cluster = _Cluster(find_bindir())  # type: ignore[arg-type]
    try:
        cluster.init()
        cluster.start()
        try:
            cluster.create_database()
        except Exception as exc:
            raise RuntimeError(
                f"could not create {DB_NAME} with PostGIS: {exc}\n"
                f"--- server log (tail) ---\n{_tail(cluster.log)}"
            ) from exc
        yield cluster.url
    finally:
        try:
            cluster.stop()
        finally:
            cluster.remove()
