# Sourced by scripts/test: the dashboard's browser tests drive Debian's chromium
# (tests/test_dashboard_browser.py). As root (CI on a fresh Debian machine) it is installed when
# missing; otherwise those tests skip, saying so. Nothing is installed when it is already there.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq chromium; } >&2; then
        echo "could not install chromium with apt-get" >&2
        exit 1
    fi
fi
