#!/usr/bin/env bash
# Checks the Debian package end to end, for this machine's architecture only (one build keeps CI quick):
# scripts/package.sh builds it; dpkg-deb lists it and shows its control fields; dpkg installs it into a
# scratch root (its own dpkg database; the system's is not touched); then the installed binary runs, its man
# page passes groff's checks, its completions parse, and its systemd unit starts the installed binary.
#
#   bash scripts/check-deb.sh        (scripts/test.sh runs it, except with -short)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

check=check-deb
. scripts/package-check-lib.sh

ARCHS=$(go env GOARCH) bash scripts/package.sh deb "$tmp/out"
debs=("$tmp"/out/porthole_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb, got: ${debs[*]}"
deb=${debs[0]}
(cd "$tmp/out" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"

echo "== dpkg-deb -I"
info=$(dpkg-deb -I "$deb")
echo "$info"
for field in "Package: porthole" "Architecture: $(dpkg --print-architecture)"; do
	grep -qx " $field" <<<"$info" || fail "control lacks '$field'"
done

echo "== dpkg-deb -c"
listing=$(dpkg-deb -c "$deb")
echo "$listing"
want=(
	./usr/bin/porthole
	./usr/share/man/man1/porthole.1.gz
	./usr/share/bash-completion/completions/porthole
	./usr/share/zsh/vendor-completions/_porthole
	./usr/share/fish/vendor_completions.d/porthole.fish
	./usr/share/doc/porthole/copyright
)
for unit in contrib/systemd/*.service; do
	[ -e "$unit" ] && want+=("./usr/lib/systemd/system/$(basename "$unit")")
done
for path in "${want[@]}"; do
	grep -q " $path\$" <<<"$listing" || fail "the package lacks $path"
done

echo "== dpkg --root install"
root="$tmp/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --log="$root/dpkg.log" -i "$deb"
dpkg --root="$root" -s porthole | grep -qx 'Status: install ok installed' || fail "dpkg does not list porthole as installed"

echo "== the installed binary"
bin="$root/usr/bin/porthole"
static "$bin" "$bin"
same "$bin" "the installed binary"
"$bin" version --json | grep -q '"version"' || fail "version --json"
"$bin" info 2556 >"$tmp/live.txt" || fail "info 2556 failed"
head -3 "$tmp/live.txt"

echo "== man page, completions, unit"
zcat "$root/usr/share/man/man1/porthole.1.gz" >"$tmp/porthole.1"
"$bin" man | cmp -s - "$tmp/porthole.1" || fail "the packaged man page is not the binary's"
groff_out=$(groff -man -Tutf8 -ww -z "$tmp/porthole.1" 2>&1) && [ -z "$groff_out" ] || fail "groff: $groff_out"
bash -n "$root/usr/share/bash-completion/completions/porthole" || fail "bash completion"
if command -v zsh >/dev/null; then zsh -n "$root/usr/share/zsh/vendor-completions/_porthole" || fail "zsh completion"; fi
if command -v fish >/dev/null; then fish -n "$root/usr/share/fish/vendor_completions.d/porthole.fish" || fail "fish completion"; fi
for unit in "$root"/usr/lib/systemd/system/*.service; do
	[ -e "$unit" ] || continue
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	[ "$exe" = /usr/bin/porthole ] && [ -x "$root$exe" ] || fail "$(basename "$unit") starts '$exe', not the installed /usr/bin/porthole"
done
echo "check-deb: ok ($(basename "$deb"))"
