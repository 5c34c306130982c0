#!/usr/bin/env bash
# Creates bench/.venv-peers: the peers' environment for the comparison runs.
#
# Only SpiffWorkflow (and what it needs) is installed, pinned as in
# ../shared/peers/requirements.txt. flowdesk itself is NOT installed here: the
# bench runs flowdesk from the project venv (.venv) and SpiffWorkflow as a
# subprocess from this venv, so the LGPL peer never becomes a project dependency.
#
# It also installs Debian's `wrk` (the HTTP load generator bench/http_load.py drives) when
# it is missing.
#
# Usage (from the repository root):  bash bench/setup.sh [--profiler]
#   --profiler   also install py-spy into the peers venv (sampling profiles)
set -euo pipefail

if ! command -v wrk >/dev/null 2>&1; then
    SUDO=""
    [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get install -y wrk
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS="${FLOWDESK_PEERS_DIR:-$(cd "$HERE/../.." && pwd)/shared/peers}"
VENV="$HERE/.venv-peers"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

pin() {  # the version pinned for package $1 in the peers' requirements.txt
    local line
    line="$(grep -i -E "^$1==" "$PEERS/requirements.txt" || true)"
    if [[ -z "$line" ]]; then
        echo "setup.sh: $1 is not pinned in $PEERS/requirements.txt" >&2
        exit 1
    fi
    echo "$line"
}

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
# SpiffWorkflow 3.2.0 needs lxml (BPMN parsing); both pinned by the peers' file.
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "$(pin SpiffWorkflow)" "$(pin lxml)"
if [[ "${1:-}" == "--profiler" ]]; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check py-spy
fi
"$VENV/bin/python" -c "import SpiffWorkflow, lxml; print('SpiffWorkflow ready:', '$VENV')"
"$VENV/bin/pip" freeze --disable-pip-version-check | sed 's/^/  /'
