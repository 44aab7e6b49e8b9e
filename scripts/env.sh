# Sourced by the launcher and the scripts: finds JDK 25 (JAVA_HOME first, then /usr/lib/jvm) and Maven.
# Sets JAVA and exports JAVA_HOME for Maven. Says clearly what is missing.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1; }

find_jdk25() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*; do [ -d "$d" ] && candidates+=("$d"); done
  for home in "${candidates[@]}"; do
    if [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ]; then
      local v; v="$(java_major "$home/bin/java")"
      if [ "${v%%.*}" -ge 25 ] 2>/dev/null; then echo "$home"; return 0; fi
    fi
  done
  return 1
}

if ! JAVA_HOME="$(find_jdk25)"; then
  echo "chatglm: no JDK 25 found (looked at \$JAVA_HOME and /usr/lib/jvm/*)." >&2
  echo "         Install a JDK 25 (for example Eclipse Temurin 25) and set JAVA_HOME to it." >&2
  exit 2
fi
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
export PATH="$JAVA_HOME/bin:$PATH"

if ! command -v mvn >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chatglm: installing Maven (apt-get install maven)..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven) >&2
  else
    echo "chatglm: Maven (mvn) is needed to build; install it (e.g. 'sudo apt-get install maven')." >&2
    exit 2
  fi
fi
