# Sourced by scripts/demo and scripts/test: makes the checkout ready to run, from nothing.
#  - finds Python >= 3.11, creates .venv and installs apfsm with its dev tools
#    (again only when pyproject.toml changed);
#  - installs graphviz's `dot` with apt-get when it is missing and we are root
#    (diagrams need it for SVG; everything else works without it).
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

stamp=.venv/.apfsm-install-stamp
want=$(cat pyproject.toml | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing apfsm and its dev tools into .venv" >&2
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" \
            >.venv/pip-install.log 2>&1; then
        grep -v "^WARNING: Location" .venv/pip-install.log >&2 || true
        echo "installing apfsm into .venv failed (log: .venv/pip-install.log)" >&2
        exit 2
    fi
    echo "$want" >"$stamp"
fi

if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing graphviz (for SVG diagrams) with apt-get" >&2
        if ! { apt-get update -qq >/dev/null 2>&1 && \
               DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null 2>&1; }; then
            echo "warning: could not install graphviz; SVG diagrams will be skipped" >&2
        fi
    else
        echo "note: graphviz's 'dot' is not installed (apt-get install graphviz); SVG diagrams will be skipped" >&2
    fi
fi
