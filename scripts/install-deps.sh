#!/usr/bin/env bash
# Installs the Debian 12 packages smtplab needs to build, test and run.
# Idempotent: does nothing (and needs no network) when everything is there.
# Runs apt-get as root, or through sudo.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ clang libclang-rt-14-dev ccache pkg-config
  # libraries (TOOLCHAIN.md)
  libimgui-dev libstb-dev libglfw3-dev python3-glad libgl-dev
  nlohmann-json3-dev catch2 libcli11-dev libasio-dev libpcap-dev
  # GUI under a virtual display, screenshots
  xvfb xauth libgl1-mesa-dri fonts-dejavu-core
  # real SMTP peers for the end-to-end tests
  swaks python3 python3-aiosmtpd postfix
  # Wireshark's dissector, to check `run --pcap` captures (tests/e2e/pcap_tshark.sh)
  tshark
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
# Postfix is only needed for its smtp-source/smtp-sink test tools: preseed it
# so that no mail system is configured on this machine.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# tshark asks whether non-root users may capture; nothing here captures live.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
