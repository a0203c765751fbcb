#!/usr/bin/env bash
# Install what the browser tests (tests/test_browser_report.py) need:
# Debian's chromium + chromium-driver, and the Playwright Python package,
# which is pointed at /usr/bin/chromium (executable_path).  Never runs
# `playwright install`: no browser build is downloaded.  Exits 0 even when
# nothing can be installed; the tests then skip with the reason.
set -u

have_chromium() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }

if ! have_chromium; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "install_browser: apt-get install chromium chromium-driver" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || echo "install_browser: apt-get update failed" >&2
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1 \
      || echo "install_browser: apt-get install chromium failed; browser tests will skip" >&2
  else
    echo "install_browser: no chromium and no root apt-get; browser tests will skip" >&2
  fi
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c "import playwright.sync_api" >/dev/null 2>&1; then
  echo "install_browser: pip install playwright (uses /usr/bin/chromium, downloads no browser)" >&2
  "$PY" -m pip install -q playwright >/dev/null 2>&1 \
    || echo "install_browser: pip install playwright failed; browser tests will skip" >&2
fi

if have_chromium; then
  echo "install_browser: $(chromium --version 2>/dev/null || echo chromium present)" >&2
fi
exit 0
