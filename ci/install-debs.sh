#!/usr/bin/env bash
# Installs the Debian packages the pipeline needs, only those whose probe fails (idempotent, quiet).
# Each line: package, then a shell test that is true when what the package provides is already here.
set -euo pipefail
needs=(
  "groovy|ls /usr/share/groovy/lib/groovy-2.4.*.jar"
  "openjdk-17-jre-headless|ls /usr/lib/jvm/java-17-openjdk-*/bin/java"
  "nodejs|command -v node"
  "npm|command -v npm"
  "python3-venv|python3 -c 'import ensurepip, venv'"
  "postgresql|ls /usr/lib/postgresql/*/bin/initdb"
  "docker.io|command -v dockerd"
  "debootstrap|command -v debootstrap"
  "iproute2|command -v ip"
  "chromium|command -v chromium"
  "chromium-driver|command -v chromedriver"
  "libnss3-tools|command -v certutil"
)
missing=()
for entry in "${needs[@]}"; do
  pkg=${entry%%|*}; probe=${entry#*|}
  eval "$probe" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
