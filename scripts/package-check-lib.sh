# Shared by scripts/check-deb.sh and scripts/check-packages.sh, which source it after `cd` to the source tree with
# check=<their name> set: a scratch directory $tmp removed on exit, a cache directory inside it (every binary reads
# the embedded registry, not one refreshed in the user's cache), and the checks both make of a packaged binary.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PORTHOLE_CACHE_DIR="$tmp/cache"

fail() {
	echo "$check: $*" >&2
	exit 1
}

# static BIN WHAT: BIN is a statically linked executable (skipped without file(1)).
static() {
	if command -v file >/dev/null; then
		file "$1" | grep -q 'statically linked' || fail "$2 is not statically linked"
	fi
}

# same BIN WHAT: BIN answers `info 2556 --offline` as this source tree does (--offline: a listener on 2556 may
# come and go between the two runs).
same() {
	local bin=$1 what=$2
	if [ ! -f "$tmp/reference.txt" ]; then
		go build -o "$tmp/reference" ./cmd/porthole
		"$tmp/reference" info 2556 --offline >"$tmp/reference.txt"
	fi
	"$bin" version
	"$bin" info 2556 --offline >"$tmp/got.txt" || fail "$what: info 2556 --offline failed"
	cmp -s "$tmp/got.txt" "$tmp/reference.txt" || { diff "$tmp/reference.txt" "$tmp/got.txt" || true; fail "$what: info 2556 differs from the source tree's"; }
}
