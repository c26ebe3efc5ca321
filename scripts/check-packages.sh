#!/usr/bin/env bash
# Checks the .rpm and the archives end to end, for this machine's architecture only, as scripts/check-deb.sh does
# the .deb: scripts/package.sh builds them; rpm lists the .rpm (-qpl), shows its header (-qpi), installs it into a
# scratch root with a database of its own (the system's is not touched; Debian's rpm warns that it is not its
# package manager) and verifies the installed files (-V); the linux .tar.gz is listed, unpacked and its binary run;
# the darwin .tar.gz and the windows .zip are listed and their binaries' formats checked. Each installed or unpacked
# binary answers `info 2556 --offline` as this source tree does, and ships the man page and completions it prints.
#
#   bash scripts/check-packages.sh        (scripts/test.sh runs it, except with -short)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

check=check-packages
. scripts/package-check-lib.sh
for tool in rpm unzip file; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/test.sh installs it)"
done

arch=$(go env GOARCH)
ARCHS=$arch bash scripts/package.sh rpm "$tmp/out"
ARCHS=$arch bash scripts/package.sh tar "$tmp/out"
(cd "$tmp/out" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
[ "$(wc -l <"$tmp/out/SHA256SUMS")" -eq 4 ] || fail "SHA256SUMS lists $(wc -l <"$tmp/out/SHA256SUMS") files, want 4 (rpm, 2 tar.gz, zip)"

# has LISTING PATH...: every PATH is a line of LISTING.
has() {
	local listing=$1
	shift
	for path in "$@"; do
		grep -qxF -- "$path" <<<"$listing" || fail "the package lacks $path"
	done
}

echo "== rpm"
rpms=("$tmp"/out/porthole-*.rpm)
[ ${#rpms[@]} -eq 1 ] && [ -f "${rpms[0]}" ] || fail "expected one .rpm, got: ${rpms[*]}"
rpmfile=${rpms[0]}
info=$(rpm -qpi "$rpmfile" 2>/dev/null)
echo "$info" | head -4
want_arch=$arch
[ "$arch" = amd64 ] && want_arch=x86_64
[ "$arch" = arm64 ] && want_arch=aarch64
grep -qx "Name *: porthole" <<<"$info" || fail "the .rpm is not named porthole"
grep -qx "Architecture: $want_arch" <<<"$info" || fail "the .rpm is not for $want_arch"
listing=$(rpm -qpl "$rpmfile" 2>/dev/null)
echo "$listing"
want=(
	/usr/bin/porthole
	/usr/share/man/man1/porthole.1.gz
	/usr/share/bash-completion/completions/porthole
	/usr/share/zsh/site-functions/_porthole
	/usr/share/fish/vendor_completions.d/porthole.fish
	/usr/share/doc/porthole/NOTICE
	/usr/share/doc/porthole/README.md
)
for unit in contrib/systemd/*.service; do
	[ -e "$unit" ] && want+=("/usr/lib/systemd/system/$(basename "$unit")")
done
has "$listing" "${want[@]}"
root="$tmp/rpmroot"
mkdir -p "$root"
rpm --root="$root" --initdb 2>/dev/null
rpm --root="$root" -i --nodeps --noscripts --notriggers "$rpmfile" 2>/dev/null || fail "rpm --root -i failed"
rpm --root="$root" -q porthole >/dev/null 2>&1 || fail "rpm does not list porthole as installed"
rpm --root="$root" -V porthole 2>/dev/null || fail "rpm -V: the installed files differ from the package's"
static "$root/usr/bin/porthole" "the rpm's binary"
same "$root/usr/bin/porthole" "the rpm's binary"
"$root/usr/bin/porthole" man | cmp -s - <(zcat "$root/usr/share/man/man1/porthole.1.gz") || fail "the rpm's man page is not its binary's"
"$root/usr/bin/porthole" completion zsh | cmp -s - "$root/usr/share/zsh/site-functions/_porthole" || fail "the rpm's zsh completion is not its binary's"

# archive_files PREFIX EXE: the paths an archive holds.
archive_files() {
	local p=$1 exe=$2
	printf '%s\n' "$p/" "$p/$exe" "$p/porthole.1" "$p/README.md" "$p/NOTICE" "$p/completions/" \
		"$p/completions/porthole.bash" "$p/completions/_porthole" "$p/completions/porthole.fish" "$p/completions/porthole.ps1"
}

echo "== linux .tar.gz"
tars=("$tmp"/out/porthole_*_linux_"$arch".tar.gz)
[ -f "${tars[0]}" ] || fail "no linux $arch .tar.gz"
name=$(basename "${tars[0]}" .tar.gz)
listing=$(tar -tzf "${tars[0]}")
echo "$listing"
mapfile -t want < <(archive_files "$name" porthole)
has "$listing" "${want[@]}"
[ "$(wc -l <<<"$listing")" -eq ${#want[@]} ] || fail "the linux archive holds other files too"
tar -C "$tmp" -xzf "${tars[0]}"
bin="$tmp/$name/porthole"
[ -x "$bin" ] || fail "the unpacked porthole is not executable"
static "$bin" "the archive's binary"
same "$bin" "the archive's binary"
"$bin" man | cmp -s - "$tmp/$name/porthole.1" || fail "the archive's man page is not its binary's"
for shell in bash fish powershell; do
	f=$(case $shell in bash) echo porthole.bash ;; fish) echo porthole.fish ;; powershell) echo porthole.ps1 ;; esac)
	"$bin" completion "$shell" | cmp -s - "$tmp/$name/completions/$f" || fail "the archive's $shell completion is not its binary's"
done
bash -n "$tmp/$name/completions/porthole.bash" || fail "bash completion"

echo "== darwin .tar.gz"
tars=("$tmp"/out/porthole_*_darwin_"$arch".tar.gz)
[ -f "${tars[0]}" ] || fail "no darwin $arch .tar.gz"
name=$(basename "${tars[0]}" .tar.gz)
listing=$(tar -tzf "${tars[0]}")
mapfile -t want < <(archive_files "$name" porthole)
has "$listing" "${want[@]}"
tar -C "$tmp" -xzf "${tars[0]}" "$name/porthole"
file "$tmp/$name/porthole" | tee /dev/stderr | grep -q 'Mach-O 64-bit' || fail "the darwin binary is not Mach-O"

echo "== windows .zip"
zips=("$tmp"/out/porthole_*_windows_"$arch".zip)
[ -f "${zips[0]}" ] || fail "no windows $arch .zip"
name=$(basename "${zips[0]}" .zip)
unzip -tq "${zips[0]}" || fail "unzip -t: the .zip is damaged"
listing=$(unzip -Z1 "${zips[0]}")
mapfile -t want < <(archive_files "$name" porthole.exe)
has "$listing" "${want[@]}"
unzip -q -d "$tmp" "${zips[0]}" "$name/porthole.exe"
file "$tmp/$name/porthole.exe" | tee /dev/stderr | grep -q 'PE32+ executable' || fail "the windows binary is not PE32+"
echo "check-packages: ok ($(cd "$tmp/out" && ls porthole* | tr '\n' ' '))"
