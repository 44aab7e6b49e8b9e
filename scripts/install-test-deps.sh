#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (sourced by test.sh). Only missing packages are installed, and
# only where that is possible without asking (root with apt-get); elsewhere it names what is missing and the
# tests that need a package say so when they run.
# One package per line, with the reason: keep this list the only place tests' system dependencies are named.
packages=(
  bubblewrap          # the code interpreter's and get_shell's sandbox (chatglm4j-agent)
  python3             # the sandboxed Python worker runs Debian's /usr/bin/python3
  python3-numpy       # promised to the model's code, checked by the interpreter tests
  python3-pandas      # likewise
  python3-matplotlib  # likewise; figures come back as PNG
  nodejs              # RealClients413Test: Node's http client must read the 413 of an oversized body (python3 too)
  chromium            # chatglm4j-browser-tests: the web UI in headless Chromium (Playwright never downloads a browser)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing ${missing[*]} (apt-get)..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >&2
  else
    echo "test: missing Debian packages: ${missing[*]} (install them with apt-get to run every test)" >&2
  fi
fi
