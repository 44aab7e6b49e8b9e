# Sourced by the launcher before the commands that run model-written code (chat --tools / --interpreter, sandbox):
# installs bubblewrap and Debian's Python packages when they are missing, the way env.sh installs Maven (only as root
# with apt-get). Elsewhere it does nothing: 'chatglm sandbox check' then says what to install. Keep the list in step
# with the sandbox packages in install-test-deps.sh.
install_sandbox_deps() {
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local p missing=()
  for p in bubblewrap python3 python3-numpy python3-pandas python3-matplotlib; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chatglm: installing ${missing[*]} for the code sandbox (apt-get install)..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >&2 \
      || echo "chatglm: apt-get failed; 'chatglm sandbox check' says what is missing" >&2
  fi
}
install_sandbox_deps
