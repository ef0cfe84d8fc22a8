#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: ffmpeg (media), OBS + Xvfb (live
# matte tests), gcc + libc6-dev (their loopback bind shim), Chromium (panel and dock pages),
# redis-server (render-farm tests start their own on a loopback port; the service is not used).
# Nothing to do when they are present; without root it prints the command instead.
set -euo pipefail
packages=(ffmpeg obs-studio xvfb gcc libc6-dev chromium redis-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing test dependencies: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
