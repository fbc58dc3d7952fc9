# Shared by the scripts: make .venv and install the project into it.
# Usage: source scripts/_venv.sh [extras]   (extras: "" or "test")
# It leaves the working directory alone, so that relative paths a user gives a script (e.g.
# `scripts/serve --fixtures my-fixtures`) are read from where the user is; a script that works on
# the repository itself does `cd "$ROOT"`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# Reinstall only when pyproject.toml (or the extras asked for) changed since the last install.
STAMP="$VENV/.refund-mock-installed-${EXTRAS:-base}"
WANT="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
installed() { [ -f "$1" ] && [ "$(cat "$1")" = "$WANT" ]; }
# the test extras include the base install: scripts/serve after scripts/test installs nothing
if ! installed "$STAMP" && ! { [ -z "$EXTRAS" ] && installed "$VENV/.refund-mock-installed-test"; }; then
    TARGET="$ROOT"
    [ -n "$EXTRAS" ] && TARGET="$ROOT[$EXTRAS]"
    echo "installing refund-mock${EXTRAS:+[$EXTRAS]} into .venv" >&2
    "$VENV/bin/python" -m pip install --quiet --editable "$TARGET"
    echo "$WANT" > "$STAMP"
fi
# The package's bytecode, as a regular (non-editable) install leaves it: an editable install
# leaves it to the first import, which PYTHONDONTWRITEBYTECODE forbids, so every command would
# compile its modules again (some 60 ms of `fixtures generate`'s start). Quick when up to date.
"$VENV/bin/python" -m compileall -q "$ROOT/mockserver" >/dev/null
export PATH="$VENV/bin:$PATH"
