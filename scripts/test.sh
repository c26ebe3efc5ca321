#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need when it is missing (iproute2 for the ss oracle
# and network namespaces, Chromium for the browser test, PostgreSQL for the store suite, promtool from the prometheus
# package and the Python Prometheus client for the metrics, Wine and mingw-w64 for the Windows build, axe-core from
# npm for the accessibility test), then runs the static checks (gofmt, go mod tidy -diff, go vet, staticcheck), the
# cross-builds, the race-enabled tests (the import layering among them), Lighthouse on the port page, every
# benchmark once and a short run of every fuzz target.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -short     # skip the .deb/.rpm/archive checks, Lighthouse, benchmarks and fuzzing (quick local loop)
#
# It needs root for apt-get and for the tests that read other processes' sockets and make network namespaces;
# without root those tests skip with a reason locally, and fail when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
short=false
[ "${1:-}" = "-short" ] && short=true

step() { printf '\n== %s\n' "$*"; }

step "apt-get install what is missing: iproute2, util-linux, chromium, gcc, prometheus (promtool), python3-prometheus-client, zsh, fish, groff-base, mandoc, dpkg, rpm, zip, unzip, file, wine, mingw-w64"
missing=()
command -v ss >/dev/null || missing+=(iproute2)
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v chromium >/dev/null || missing+=(chromium)
command -v gcc >/dev/null || missing+=(gcc)
command -v promtool >/dev/null || missing+=(prometheus) # promtool checks watch's /metrics output
# The Python client's OpenMetrics parser checks the OpenMetrics output (the system python3: a pyenv one lacks it).
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null || missing+=(python3-prometheus-client)
# Shells and man page checkers for the completion and man page tests.
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
command -v groff >/dev/null || missing+=(groff-base)
command -v mandoc >/dev/null || missing+=(mandoc)
command -v dpkg-deb >/dev/null || missing+=(dpkg)
# scripts/check-packages.sh: the .rpm (rpm) and the archives (zip, unzip, file).
command -v rpm >/dev/null || missing+=(rpm)
command -v zip >/dev/null || missing+=(zip)
command -v unzip >/dev/null || missing+=(unzip)
command -v file >/dev/null || missing+=(file)
# The Windows build under Wine (cmd/porthole/wine_linux_test.go): Wine runs the amd64 .exe on amd64 hosts only.
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
	{ command -v wine >/dev/null && [ -x /usr/lib/wine/wine64 ]; } || missing+=(wine wine64)
	command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
fi
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "not root: cannot install ${missing[*]}; the tests that need them will skip (or fail under CI)"
	fi
else
	echo "all present"
fi

step "axe-core for the accessibility test (npm, into a cache directory)"
axe_dir="${XDG_CACHE_HOME:-$HOME/.cache}/porthole-npm"
export PORTHOLE_AXE="$axe_dir/node_modules/axe-core/axe.min.js"
if [ ! -s "$PORTHOLE_AXE" ]; then
	if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
	fi
	if command -v npm >/dev/null; then
		mkdir -p "$axe_dir"
		npm install --prefix "$axe_dir" --no-audit --no-fund --silent axe-core@4.14.1 || echo "npm install axe-core failed; the accessibility test will skip (or fail under CI)"
	else
		echo "no npm: the accessibility test will skip (or fail under CI)"
	fi
fi
[ -s "$PORTHOLE_AXE" ] && echo "PORTHOLE_AXE=$PORTHOLE_AXE"

step "tree-sitter's PowerShell grammar for the PowerShell completion test (npm, WebAssembly; pwsh is not in Debian)"
# Its own directory: npm would otherwise try to add the grammar's native peer dependency on a later install there.
ts_dir="${XDG_CACHE_HOME:-$HOME/.cache}/porthole-npm-ts"
export PORTHOLE_TREE_SITTER="$ts_dir/node_modules"
if [ ! -s "$PORTHOLE_TREE_SITTER/tree-sitter-powershell/tree-sitter-powershell.wasm" ] || [ ! -s "$PORTHOLE_TREE_SITTER/web-tree-sitter/tree-sitter.cjs" ]; then
	if command -v npm >/dev/null; then
		# --ignore-scripts, --legacy-peer-deps: only the .wasm grammar and the WebAssembly runtime, not the native
		# node binding (the grammar's peer dependency, built with node-gyp).
		mkdir -p "$ts_dir"
		npm install --prefix "$ts_dir" --no-audit --no-fund --silent --ignore-scripts --legacy-peer-deps \
			web-tree-sitter@0.25.10 tree-sitter-powershell@0.26.4 ||
			echo "npm install tree-sitter-powershell failed; the PowerShell completion test will skip (or fail under CI)"
	else
		echo "no npm: the PowerShell completion test will skip (or fail under CI)"
	fi
fi

step "start PostgreSQL for the store tests (scripts/postgres.sh)"
eval "$(bash scripts/postgres.sh)"
trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
echo "PORTHOLE_TEST_POSTGRES is set"

step "gofmt -l: every Go file formatted"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go mod tidy -diff: go.mod and go.sum need no change"
go mod tidy -diff

step "go vet ./..."
go vet ./...

step "staticcheck ./..."
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

step "go build and go vet for linux, darwin, windows on amd64 and arm64 (CGO_ENABLED=0)"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
	GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go build -o /dev/null ./cmd/porthole
	GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go vet ./... 
	echo "$target ok"
done

step "go test -race ./... (includes internal/layers_test.go, the import layering)"
go test -race -count=1 -timeout 30m ./...

if ! $short; then
	step "scripts/check-deb.sh: the .deb built with scripts/package.sh, listed, installed in a scratch root, run"
	bash scripts/check-deb.sh

	step "scripts/check-packages.sh: the .rpm listed, installed in a scratch root and verified; the archives listed, the linux one unpacked and run"
	bash scripts/check-packages.sh

	step "scripts/lighthouse.sh: Lighthouse SEO and accessibility of the port page, en and ko"
	bash scripts/lighthouse.sh

	step "go test -bench . -benchtime 1x ./...: every benchmark once"
	go test -run '^$' -bench . -benchtime 1x -timeout 20m ./...

	step "scripts/bench-fleet.sh, smoke: 300 simulated hosts every 5 s for 10 s on SQLite and PostgreSQL, nothing lost"
	BENCH_HOSTS=300 BENCH_INTERVAL=5s BENCH_DURATION=10s bash scripts/bench-fleet.sh sqlite postgres

	step "go test -fuzz: every fuzz target for 4 s"
	fuzzlog=$(mktemp)
	for pkg in $(go list ./...); do
		dir=$(go list -f '{{.Dir}}' "$pkg")
		for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
			if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime 4s "$pkg" >"$fuzzlog" 2>&1; then
				# The fuzzing engine itself sometimes misses its own deadline
				# on a busy machine ("context deadline exceeded", no failing
				# input): run that target once more. A found input fails.
				if grep -q 'context deadline exceeded' "$fuzzlog" && ! grep -q 'Failing input' "$fuzzlog" &&
					go test -run '^$' -fuzz "^${target}\$" -fuzztime 4s "$pkg" >"$fuzzlog" 2>&1; then
					echo "$pkg $target ok (second run; the first hit the engine's deadline)"
					continue
				fi
				echo "$pkg $target FAILED:"; cat "$fuzzlog"; exit 1
			fi
			echo "$pkg $target ok"
		done
	done
fi
step "all checks passed"
