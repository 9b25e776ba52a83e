# Sourced by scripts/demo and scripts/test: makes the checkout ready to run, from nothing.
#  - finds Python >= 3.11, creates .venv and installs apfsm with the extras the calling
#    script needs (APFSM_EXTRAS; again only when pyproject.toml changed), with uv when it
#    can (installed into .venv from the package index if missing), else pip;
#  - installs graphviz's `dot` with apt-get when it is missing and we are root
#    (diagrams need it for SVG; everything else works without it);
#  - for the test suite (the dev or scale extra), installs `redis-server` the same way
#    (the redis example database tests start one on loopback; without it they are skipped,
#    saying why). Neither ever fails the bootstrap: without apt-get or root, a note says
#    what to install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ]; then
    python=$(find_python) || {
        echo "apfsm needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
        exit 2
    }
    echo "==> creating .venv with $python" >&2
    "$python" -m venv .venv
fi

# What to install: APFSM_EXTRAS (set by the calling script; "dev" by default). The demo
# needs only the fuzzing kit and the diagrams; the test suite needs everything.
extras="${APFSM_EXTRAS:-dev}"
stamp=.venv/.apfsm-install-stamp
want="$(.venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
installed_for() {  # the extras installed with the current pyproject.toml, one per line
    [ -f "$stamp" ] || return 0
    sed -n "s/^$want //p" "$stamp"
}
covered() {  # does what is installed already cover "$extras"? (dev covers everything)
    local have
    have=$(installed_for)
    [ -n "$have" ] || return 1
    echo "$have" | grep -qx dev && return 0
    local extra
    for extra in ${extras//,/ }; do
        echo "$have" | grep -qx "$extra" || return 1
    done
}
if ! covered; then
    started=$SECONDS
    # uv (pip-installable) installs in parallel and in seconds; pip is the fallback.
    installer=()
    if command -v uv >/dev/null 2>&1; then
        installer=(uv pip install --python .venv/bin/python)
    elif [ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet --disable-pip-version-check uv \
            >.venv/pip-install.log 2>&1; then
        installer=(.venv/bin/uv pip install --python .venv/bin/python)
    fi
    echo "==> installing apfsm[$extras] into .venv with ${installer[0]:-pip} (first run only)" >&2
    ok=0
    if [ ${#installer[@]} -gt 0 ]; then
        "${installer[@]}" -e ".[$extras]" >.venv/pip-install.log 2>&1 && ok=1
    fi
    if [ $ok = 0 ]; then
        [ ${#installer[@]} -gt 0 ] && echo "    uv failed; falling back to pip" >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]" \
            >.venv/pip-install.log 2>&1 && ok=1
    fi
    if [ $ok = 0 ]; then
        grep -v "^WARNING: Location" .venv/pip-install.log >&2 || true
        echo "installing apfsm into .venv failed (log: .venv/pip-install.log)" >&2
        exit 2
    fi
    { installed_for; for extra in ${extras//,/ }; do echo "$extra"; done; } | sort -u \
        | sed "s/^/$want /" >"$stamp.new"
    mv "$stamp.new" "$stamp"
    echo "    done in $((SECONDS - started)) s" >&2
fi

apt_updated=0
apt_install() {  # apt_install PACKAGE WHAT-NEEDS-IT: 0 when installed, never exits
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    echo "==> installing $1 ($2) with apt-get" >&2
    if [ $apt_updated = 0 ]; then
        apt-get update -qq >/dev/null 2>&1 || return 1
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1
}

if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt_install graphviz "for SVG diagrams" \
            || echo "warning: could not install graphviz; SVG diagrams will be skipped" >&2
    else
        echo "note: graphviz's 'dot' is not installed (apt-get install graphviz); SVG diagrams will be skipped" >&2
    fi
fi

case ",$extras," in
*,dev,* | *,scale,*)
    if ! command -v redis-server >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt_install redis-server "for the redis example database tests" \
                || echo "warning: could not install redis-server; the redis tests will be skipped" >&2
        else
            echo "note: redis-server is not installed (apt-get install redis-server); the redis example database tests will be skipped" >&2
        fi
    fi
    ;;
esac
