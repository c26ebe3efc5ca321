#!/usr/bin/env bash
# Intel coverage of the ports people actually meet (issue #11): the 300 TCP and 100 UDP ports most often open by
# nmap's open-frequency ranking (read from the Debian nmap package at run time, never shipped) and the notable
# ports in internal/web/notable-ports.txt. Prints the share of each list with at least one cited intel entry for the
# port's protocol. Installs nmap (Debian) when the services file is missing.
#
#   bash scripts/coverage.sh [-missing]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
services=/usr/share/nmap/nmap-services
if [ ! -r "$services" ]; then
	apt-get update -qq && apt-get install -y -qq nmap >/dev/null
fi
exec go run ./scripts/coverage -services "$services" -notable internal/web/notable-ports.txt "$@"
