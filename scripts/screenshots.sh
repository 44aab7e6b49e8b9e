#!/usr/bin/env bash
# Regenerates the web UI screenshots in docs/screenshots/ (the three modes at desktop width, light theme, and at phone
# width, dark theme) with headless Debian Chromium against the real server with a scripted model (Screenshots in the
# browser tests' sources): get_weather asks a loopback stand-in for wttr.in, and the interpreter's code runs in the
# real sandbox, so its figure is matplotlib's. Needs chromium, bubblewrap and Debian's python3-numpy and
# python3-matplotlib (scripts/install-test-deps.sh installs them).
#   scripts/screenshots.sh [OUTPUT_DIR]      (default docs/screenshots)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
OUT="${1:-$ROOT/docs/screenshots}"
# the page uses emoji and its language button a CJK character: without these fonts Chromium draws empty boxes
fonts=(fonts-noto-color-emoji fonts-wqy-microhei)
missing=()
for p in "${fonts[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >&2
  else
    echo "screenshots: warning: missing fonts ${missing[*]} (emoji and Chinese will show as boxes)" >&2
  fi
fi
cd "$ROOT"
log="$(mktemp "${TMPDIR:-/tmp}/chatglm-screenshots.XXXXXX")"
trap 'rm -f "$log"' EXIT
mvn -q -B ${MAVEN_ARGS:-} install -DskipTests -pl chatglm4j-browser-tests -am >"$log" 2>&1 \
  || { cat "$log" >&2; echo "screenshots: build failed" >&2; exit 1; }
CP="$(mvn -q -B -Dstyle.color=never ${MAVEN_ARGS:-} -pl chatglm4j-browser-tests dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=/dev/stdout 2>/dev/null | sed "s/\x1b\[[0-9;]*m//g")"
# the scripted model writes token ids of the shared fixtures' tokenizer (../shared/fixtures, as for the tests)
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$JAVA" -Dchatglm.fixtures="${CHATGLM_FIXTURES:-$ROOT/../shared/fixtures}" \
  -cp "chatglm4j-browser-tests/target/test-classes:$CP" io.github.chatglm4j.webui.Screenshots "$OUT"
