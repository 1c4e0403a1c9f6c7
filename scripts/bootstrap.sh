#!/usr/bin/env bash
# Prepare everything mapsvc needs: system packages and the Python venv at .venv.
#
#   scripts/bootstrap.sh          what running the service needs (SpatiaLite)
#   scripts/bootstrap.sh --test   also PostgreSQL + PostGIS 3 (throwaway test clusters), gdal-bin and chromium
#
# Safe to run repeatedly: installs only missing system packages, and skips `pip install` while
# pyproject.toml is unchanged (its sha256 is kept in .venv/.mapsvc-installed).
# Environment: PYTHON (default python3, must be >= 3.11).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.mapsvc-installed"
PYTHON="${PYTHON:-python3}"

WITH_TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST=1 ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bootstrap.sh: unknown argument: $arg (usage: scripts/bootstrap.sh [--test])" >&2; exit 2 ;;
    esac
done

say() { echo "mapsvc: $*"; }
die() { echo "mapsvc: $*" >&2; exit 1; }

is_debian() { [[ -f /etc/debian_version ]] && command -v dpkg >/dev/null 2>&1; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }

pkg_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

APT_UPDATED=0
apt_update_once() {
    if [[ "$APT_UPDATED" -eq 0 ]]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
}

# Major version of PostgreSQL: the installed server if any, else what apt would install.
pg_major() {
    local best="" d v
    for d in /usr/lib/postgresql/*/bin/initdb; do
        [[ -x "$d" ]] || continue
        v="${d#/usr/lib/postgresql/}"; v="${v%%/*}"
        [[ "$v" =~ ^[0-9]+$ ]] || continue
        if [[ -z "$best" || "$v" -gt "$best" ]]; then best="$v"; fi
    done
    if [[ -n "$best" ]]; then echo "$best"; return; fi
    if command -v apt-cache >/dev/null 2>&1; then
        v="$(apt-cache depends postgresql 2>/dev/null | sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n1)"
        if [[ -z "$v" ]] && is_root; then
            apt_update_once >&2
            v="$(apt-cache depends postgresql 2>/dev/null | sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n1)"
        fi
        if [[ -n "$v" ]]; then echo "$v"; return; fi
    fi
    echo 15
}

# Rough check for non-Debian systems (no dpkg): is each needed thing present?
have_spatialite() {
    { command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'mod_spatialite'; } && return 0
    compgen -G "/usr/lib*/mod_spatialite.*" >/dev/null || compgen -G "/usr/lib*/*/mod_spatialite.*" >/dev/null \
        || compgen -G "/usr/local/lib/mod_spatialite.*" >/dev/null || compgen -G "/opt/homebrew/lib/mod_spatialite.*" >/dev/null
}
have_postgis() {
    command -v pg_config >/dev/null 2>&1 || return 1
    [[ -x "$(pg_config --bindir)/initdb" && -f "$(pg_config --sharedir)/extension/postgis.control" ]]
}

# ---------------------------------------------------------------- system packages
NEEDED=(libsqlite3-mod-spatialite)
HINT="SpatiaLite's mod_spatialite"
if [[ "$WITH_TEST" -eq 1 ]]; then
    PG_MAJOR="$(pg_major)"
    # chromium: Debian's browser for the Playwright tests (never `playwright install`; GEOSTACK.md trap 5).
    NEEDED+=(postgresql "postgresql-$PG_MAJOR-postgis-3" gdal-bin chromium)
    HINT+=", PostgreSQL $PG_MAJOR + PostGIS 3, GDAL command-line tools (ogrinfo/ogr2ogr), Chromium at /usr/bin/chromium"
fi

MISSING=()
if is_debian; then
    for p in "${NEEDED[@]}"; do
        pkg_installed "$p" || MISSING+=("$p")
    done
else
    have_spatialite || MISSING+=(libsqlite3-mod-spatialite)
    if [[ "$WITH_TEST" -eq 1 ]]; then
        have_postgis || MISSING+=(postgresql "postgresql-$PG_MAJOR-postgis-3")
        command -v ogrinfo >/dev/null 2>&1 || MISSING+=(gdal-bin)
        [[ -x /usr/bin/chromium ]] || MISSING+=(chromium)
    fi
fi

if [[ "${#MISSING[@]}" -gt 0 ]]; then
    if is_debian && is_root; then
        apt_update_once
        say "installing system packages: ${MISSING[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}"
    else
        {
            echo "mapsvc: missing system packages: ${MISSING[*]}"
            if is_debian; then
                echo "  install them as root:  apt-get install --no-install-recommends ${MISSING[*]}"
            else
                echo "  (these are Debian package names; this is not a Debian system)"
            fi
            echo "  on other systems install the equivalent: $HINT"
            echo "  then re-run: scripts/bootstrap.sh $*"
        } >&2
        exit 1
    fi
fi

# ---------------------------------------------------------------- Python venv
command -v "$PYTHON" >/dev/null 2>&1 || die "Python not found: '$PYTHON' (set PYTHON=/path/to/python3.11 or newer)"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    die "mapsvc needs Python >= 3.11, but '$PYTHON' is $("$PYTHON" -c 'import sys; print(sys.version.split()[0])'); set PYTHON=/path/to/python3.11 or newer"
fi

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "creating venv $VENV with $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'))"
    "$PYTHON" -m venv --clear "$VENV" || die "could not create the venv (on Debian's own python3: apt-get install python3-venv)"
    rm -f "$STAMP"
elif ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    die "$VENV uses Python $("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])') (< 3.11): remove it (rm -rf $VENV) and re-run"
fi

WANT="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
    :  # pyproject.toml unchanged since the last install
else
    say "installing mapsvc[test] into .venv (pip)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test]"
    echo "$WANT" > "$STAMP"
fi

echo "mapsvc: environment ready (.venv)"
