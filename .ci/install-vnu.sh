#!/usr/bin/env bash
# Installs the Nu HTML Checker (npm's vnu-jar 26.x) under var/vnu/ (git-ignored), where
# tests/test_html_validity.py looks for it (or at $VNU_JAR). Run as root, it also
# apt-installs what is missing to run it: Java (default-jre-headless) and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=var/vnu
JAR=$PREFIX/node_modules/vnu-jar/build/dist/vnu.jar

need=()
command -v java >/dev/null || need+=(default-jre-headless)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing ${need[*]}: install them (Debian: apt-get install -y ${need[*]}), then run this again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p /usr/share/man/man1 # slim images lack it, and the JRE's postinst fails without it
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Reinstall only when missing or not 26.x (an npm install costs a download).
installed=$(node -p "require('./$PREFIX/node_modules/vnu-jar/package.json').version" 2>/dev/null || true)
if [ ! -f "$JAR" ] || [[ "$installed" != 26.* ]]; then
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error vnu-jar@26 >/dev/null
fi
echo "vnu $(java -jar "$JAR" --version) at $JAR"
