"""The throwaway PostGIS cluster really starts, is loopback-only, and leaves nothing behind."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.postgis import postgis_available, throwaway_postgis


def _server_facts(url: str) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            data_dir = Path(conn.execute(text("SHOW data_directory")).scalar_one())
            facts = {
                "postgis": conn.execute(text("SELECT postgis_version()")).scalar_one(),
                "db": conn.execute(text("SELECT current_database()")).scalar_one(),
                "listen": conn.execute(text("SHOW listen_addresses")).scalar_one(),
                "port": int(conn.execute(text("SHOW port")).scalar_one()),
                "socket_dir": Path(conn.execute(text("SHOW unix_socket_directories")).scalar_one()),
                "data_dir": data_dir,
                "postmaster_pid": int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0]),
                "point": conn.execute(
                    text("SELECT ST_AsText(ST_Transform(ST_SetSRID(ST_MakePoint(4.35, 50.85), 4326), 31370))")
                ).scalar_one(),
            }
    finally:
        engine.dispose()
    return facts


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets in LISTEN state on `port` (Linux /proc/net)."""
    found: set[str] = set()
    for name, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(addr_hex)
            # /proc prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, raw))
    return found


def _accepts(host: str, port: int, family: int = socket.AF_INET) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect((host, port))
            return True
    except OSError:
        return False


def _non_loopback_ipv4() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1; UDP connect sends nothing
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _assert_gone(facts: dict) -> None:
    assert not facts["socket_dir"].exists(), f"temp dir {facts['socket_dir']} left behind"
    assert not facts["data_dir"].exists()
    assert not _accepts("127.0.0.1", facts["port"]), "port still accepts connections"
    assert _pid_gone(facts["postmaster_pid"]), "postmaster still running"


def test_postgis_binaries_available():
    # Never skip silently: if this fails, the message says what to install.
    assert postgis_available() is None, postgis_available()


def test_throwaway_postgis_starts_is_loopback_only_and_cleans_up():
    with throwaway_postgis() as url:
        assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        assert url.endswith("/mapsvc_test")
        facts = _server_facts(url)

        assert facts["postgis"].startswith("3"), facts["postgis"]
        assert facts["db"] == "mapsvc_test"
        assert f":{facts['port']}/" in url
        assert facts["point"].startswith("POINT(1"), facts["point"]  # Brussels in Lambert 72

        # Listens only on loopback IPv4.
        assert facts["listen"] == "127.0.0.1"
        listening = _listening_addresses(facts["port"])
        if Path("/proc/net/tcp").exists():
            assert listening == {"127.0.0.1"}, listening
        if socket.has_ipv6:
            assert not _accepts("::1", facts["port"], socket.AF_INET6)
        other = _non_loopback_ipv4()
        if other:
            assert not _accepts(other, facts["port"])

        # Unix socket lives in the temp dir, next to the data dir.
        assert facts["data_dir"].parent == facts["socket_dir"]
        assert facts["socket_dir"].is_dir()

    _assert_gone(facts)


def test_throwaway_postgis_twice_nested_and_cleans_up_after_exception():
    with throwaway_postgis() as outer_url:
        outer = _server_facts(outer_url)
        with pytest.raises(RuntimeError, match="boom"):
            with throwaway_postgis() as inner_url:
                inner = _server_facts(inner_url)
                assert inner["port"] != outer["port"]
                assert inner["socket_dir"] != outer["socket_dir"]
                raise RuntimeError("boom")
        _assert_gone(inner)
        # The outer cluster is untouched by the inner one's teardown.
        assert _server_facts(outer_url)["postgis"].startswith("3")
    _assert_gone(outer)
