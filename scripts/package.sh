#!/usr/bin/env bash
# Release builds of porthole: stripped static binaries (CGO_ENABLED=0, -trimpath, -ldflags '-s -w'), packaged.
#
#   bash scripts/package.sh deb OUTDIR   # porthole_VERSION_amd64.deb, porthole_VERSION_arm64.deb
#   bash scripts/package.sh rpm OUTDIR   # porthole-VERSION-1.x86_64.rpm, porthole-VERSION-1.aarch64.rpm
#   bash scripts/package.sh tar OUTDIR   # .tar.gz for linux and darwin, .zip for windows (amd64, arm64)
#   bash scripts/package.sh all OUTDIR   # all of the above
#
# The .deb and .rpm (built with nfpm, a Go module run at a pinned version) install
#   /usr/bin/porthole
#   /usr/share/man/man1/porthole.1.gz                      (porthole man)
#   /usr/share/bash-completion/completions/porthole        (porthole completion bash)
#   /usr/share/zsh/vendor-completions/_porthole            (deb; rpm: /usr/share/zsh/site-functions/_porthole)
#   /usr/share/fish/vendor_completions.d/porthole.fish     (porthole completion fish)
#   /usr/lib/systemd/system/*.service                      (contrib/systemd, ExecStart in /usr/bin; not enabled)
#   /usr/share/doc/porthole/                               (README, NOTICE; deb: NOTICE as copyright)
# The archives hold the binary, the man page, the completions (PowerShell's too), README and NOTICE.
# OUTDIR/SHA256SUMS is rewritten to list every porthole package in OUTDIR.
#
# Environment:
#   VERSION  the package version (digits first, no leading v). When set, the binary reports it too
#            (-X .../cli.Version=vVERSION). Default: 0.0.0~gitYYYYMMDDHHMMSS.COMMIT from the checkout, and the
#            binary reports its build info (module version, revision, commit time, modified).
#   ARCHS    the architectures to build (default: amd64 arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
MODULE=github.com/porthole/porthole

usage() {
	echo "usage: bash scripts/package.sh deb|rpm|tar|all OUTDIR" >&2
	exit 2
}
[ $# -eq 2 ] || usage
kind=$1
case $kind in deb | rpm | tar | all) ;; *) usage ;; esac
mkdir -p "$2"
out=$(cd "$2" && pwd)
archs=${ARCHS:-amd64 arm64}

# The version, and what the binary is stamped with. The revision is stamped from git as well: the go command
# records VCS information itself in a plain clone, but not in a `git worktree`, nor when GOFLAGS says
# -buildvcs=false; a stamped revision that matches the recorded one keeps its commit time and modified flag.
revision=$(git rev-parse HEAD 2>/dev/null || true)
ldflags="-s -w"
if [ -n "${VERSION:-}" ]; then
	case $VERSION in [0-9]*) ;; *) echo "VERSION must start with a digit (got $VERSION)" >&2; exit 2 ;; esac
	version=$VERSION
	ldflags="$ldflags -X $MODULE/internal/cli.Version=v$VERSION"
elif [ -n "$revision" ]; then
	version="0.0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).${revision:0:12}"
else
	version="0.0.0~dev"
fi
[ -n "$revision" ] && ldflags="$ldflags -X $MODULE/internal/cli.Revision=$revision"
# Archive members get the commit's time, so that two builds of one commit are the same bytes.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build GOOS GOARCH: a stripped static binary in $work/GOOS_GOARCH/.
build() {
	local bin=porthole
	[ "$1" = windows ] && bin=porthole.exe
	mkdir -p "$work/$1_$2"
	GOOS=$1 GOARCH=$2 CGO_ENABLED=0 go build -buildvcs=true -trimpath -ldflags "$ldflags" \
		-o "$work/$1_$2/$bin" ./cmd/porthole
	echo "built $1/$2"
}

# The man page and completions, from a binary for this machine (the same flags, so mostly from the cache).
build "$(go env GOHOSTOS)" "$(go env GOHOSTARCH)"
host="$work/$(go env GOHOSTOS)_$(go env GOHOSTARCH)/porthole"
[ -x "$host" ] || host="$host.exe"
share="$work/share"
mkdir -p "$share/completions" "$share/systemd"
"$host" man >"$share/porthole.1"
gzip -9n <"$share/porthole.1" >"$share/porthole.1.gz"
"$host" completion bash >"$share/completions/porthole.bash"
"$host" completion zsh >"$share/completions/_porthole"
"$host" completion fish >"$share/completions/porthole.fish"
"$host" completion powershell >"$share/completions/porthole.ps1"
# The units name /usr/local/bin/porthole (a hand install); the packages put it in /usr/bin.
units=()
for unit in contrib/systemd/*.service; do
	[ -e "$unit" ] || continue
	sed 's#/usr/local/bin/porthole#/usr/bin/porthole#g' "$unit" >"$share/systemd/$(basename "$unit")"
	units+=("$(basename "$unit")")
done

# nfpm_package PACKAGER ARCH
nfpm_package() {
	local packager=$1 arch=$2 cfg="$work/nfpm-$1-$2.yaml"
	[ -x "$work/linux_$arch/porthole" ] || build linux "$arch"
	{
		cat <<EOF
name: porthole
arch: $arch
platform: linux
version: "$version"
version_schema: none
mtime: "$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
section: net
priority: optional
maintainer: "${MAINTAINER:-The porthole authors}"
homepage: https://github.com/porthole/porthole
description: |-
  What is this TCP/UDP port, and what is on it here?
  porthole joins the IANA port registry (embedded), cited intel on ports
  (malware, backdoors, common unofficial uses) and this machine's listening
  sockets with their owner processes: info, who, list, audit, watch, and a
  reference web site (serve, export).
contents:
  - src: $work/linux_$arch/porthole
    dst: /usr/bin/porthole
    file_info: {mode: 0755}
  - src: $share/porthole.1.gz
    dst: /usr/share/man/man1/porthole.1.gz
    file_info: {mode: 0644}
  - src: $share/completions/porthole.bash
    dst: /usr/share/bash-completion/completions/porthole
    file_info: {mode: 0644}
  - src: $share/completions/_porthole
    dst: /usr/share/zsh/vendor-completions/_porthole
    packager: deb
    file_info: {mode: 0644}
  - src: $share/completions/_porthole
    dst: /usr/share/zsh/site-functions/_porthole
    packager: rpm
    file_info: {mode: 0644}
  - src: $share/completions/porthole.fish
    dst: /usr/share/fish/vendor_completions.d/porthole.fish
    file_info: {mode: 0644}
  - src: $PWD/README.md
    dst: /usr/share/doc/porthole/README.md
    file_info: {mode: 0644}
  - src: $PWD/NOTICE
    dst: /usr/share/doc/porthole/copyright
    packager: deb
    file_info: {mode: 0644}
  - src: $PWD/NOTICE
    dst: /usr/share/doc/porthole/NOTICE
    packager: rpm
    file_info: {mode: 0644}
EOF
		for unit in "${units[@]}"; do
			cat <<EOF
  - src: $share/systemd/$unit
    dst: /usr/lib/systemd/system/$unit
    file_info: {mode: 0644}
EOF
		done
	} >"$cfg"
	go run "$NFPM" package --config "$cfg" --packager "$packager" --target "$out/"
}

# archive GOOS GOARCH: OUTDIR/porthole_VERSION_GOOS_GOARCH.tar.gz (.zip for windows).
archive() {
	local goos=$1 arch=$2 name="porthole_${version}_$1_$2"
	[ -d "$work/${goos}_$arch" ] && [ "$(ls "$work/${goos}_$arch")" ] || build "$goos" "$arch"
	local dir="$work/archive/$name"
	mkdir -p "$dir/completions"
	cp "$work/${goos}_$arch"/porthole* "$dir/"
	cp README.md NOTICE "$share/porthole.1" "$dir/"
	cp "$share/completions"/* "$dir/completions/"
	find "$dir" -exec touch -h -d "@$epoch" {} +
	if [ "$goos" = windows ]; then
		command -v zip >/dev/null || { echo "zip is not installed (apt-get install zip)" >&2; exit 3; }
		rm -f "$out/$name.zip"
		(cd "$work/archive" && find "$name" | LC_ALL=C sort | zip -q -X -@ "$out/$name.zip")
		echo "wrote $out/$name.zip"
	else
		tar -C "$work/archive" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - "$name" |
			gzip -9n >"$out/$name.tar.gz"
		echo "wrote $out/$name.tar.gz"
	fi
}

for arch in $archs; do
	case $kind in deb | all) nfpm_package deb "$arch" ;; esac
	case $kind in rpm | all) nfpm_package rpm "$arch" ;; esac
	case $kind in
	tar | all)
		for goos in linux darwin windows; do archive "$goos" "$arch"; done
		;;
	esac
done

(
	cd "$out"
	shopt -s nullglob
	files=(porthole_*.deb porthole-*.rpm porthole_*.tar.gz porthole_*.zip)
	sha256sum -- "${files[@]}" >SHA256SUMS
	echo "wrote $out/SHA256SUMS (${#files[@]} files)"
)
