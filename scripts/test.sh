#!/usr/bin/env bash
# Runs the whole test suite. Needs ../shared/fixtures next to the checkout (or -Dchatglm.fixtures=DIR in MAVEN_ARGS).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
source "$ROOT/scripts/install-test-deps.sh"
cd "$ROOT"
exec mvn -B ${MAVEN_ARGS:-} install
