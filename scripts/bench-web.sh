#!/usr/bin/env bash
# bench-web.sh: how fast is porthole's web site?
#
# 1. `porthole export` of all 65,536 ports in English and Korean: pages/s
#    (onto TMPDIR's disk, with cp -r of the same tree for scale, and onto
#    tmpfs when /dev/shm exists);
# 2. nginx on a loopback port with its own config, pid file and temp
#    directory, serving the exported file of /ports/2556;
# 3. `porthole serve` on another loopback port; wrk with 64 connections for
#    10 s against /ports/2556 on each server, alternating for ROUNDS rounds
#    (default 3) so both see the same background load, once plain and once
#    with Accept-Encoding: gzip (nginx with gzip_static sends the export's
#    .gz file): the best round's requests/s and p99 of each, the ratios,
#    the bytes sent, and serve's RSS afterwards.
#
# Targets: porthole >= 0.8x nginx with gzip (issue 17; >= 0.5x plain),
# porthole p99 < 5 ms, export >= 10,000 pages/s, RSS < 64 MB. wrk and nginx come from Debian and are installed when missing.
# Everything talks to 127.0.0.1 only; every process started here is stopped
# by its PID.
#
# SERVE_FLAGS adds flags to `porthole serve` (SERVE_FLAGS=--no-fast-path
# measures net/http alone, without serve's fast front). BASELINE_FLAGS, when
# set, starts a second `porthole serve` with those flags (e.g.
# BASELINE_FLAGS=--no-fast-path) and measures it in the same rounds, after
# nginx, so that both porthole variants see the same background load.
#
# PIN=1 keeps the load generator off the servers' core: nginx (one worker)
# and serve run on CPU 0, wrk (one thread) on CPU 1. Without it, wrk's two
# threads and the server share both cores, and the kernel's switching
# between them sets the latency tail of both servers.
#
# Usage: [WEB_ONLY=1] [ROUNDS=3] [PIN=1] [SERVE_FLAGS=...] [BASELINE_FLAGS=...] scripts/bench-web.sh [DURATION]   (default 10s)
set -euo pipefail

duration=${1:-10s}
pin_srv=() pin_wrk=() wrk_threads=2 nginx_workers=auto
if [[ ${PIN:-} == 1 ]]; then
	pin_srv=(taskset -c 0) pin_wrk=(taskset -c 1) wrk_threads=1 nginx_workers=1
fi
conns=64
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/porthole-bench.XXXXXX")
chmod 755 "$work" # nginx workers (www-data) read the export inside
serve_pid= base_pid= nginx_pidfile=

cleanup() {
	if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -TERM "$serve_pid" && wait "$serve_pid" 2>/dev/null || true
	fi
	if [[ -n $base_pid ]] && kill -0 "$base_pid" 2>/dev/null; then
		kill -TERM "$base_pid" && wait "$base_pid" 2>/dev/null || true
	fi
	if [[ -n $nginx_pidfile && -s $nginx_pidfile ]]; then
		kill -QUIT "$(cat "$nginx_pidfile")" 2>/dev/null || true
		for _ in $(seq 50); do [[ -e $nginx_pidfile ]] || break; sleep 0.1; done
	fi
	rm -rf "$work"
}
trap cleanup EXIT

need() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
	if ((${#missing[@]})); then
		echo "installing ${missing[*]} (Debian)" >&2
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}
need
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# run_wrk URL [HEADER] → prints "RPS P99_MS"
run_wrk() {
	local out hdr=()
	[[ -n ${2:-} ]] && hdr=(-H "$2")
	out=$("${pin_wrk[@]}" wrk -t"$wrk_threads" -c"$conns" -d"$duration" --latency "${hdr[@]}" "$1")
	echo "$out" >"$work/wrk-$(date +%s%N).txt"
	local rps p99
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")
	echo "$rps $p99"
}

echo "building porthole" >&2
(cd "$root" && CGO_ENABLED=0 go build -o "$work/porthole" ./cmd/porthole)

# 1. export of every port in both languages, onto the disk of TMPDIR. With
#    WEB_ONLY=1 only the pages nginx serves are exported and the export is
#    not timed (a quicker re-run of the server comparison).
if [[ -n ${WEB_ONLY:-} ]]; then
	"$work/porthole" export "$work/site" --lang en,ko --range 2556-2556 --quiet >&2
else
echo "porthole export (65,536 ports x en,ko)" >&2
export_line=$("$work/porthole" export "$work/site" --lang en,ko --quiet)
echo "$export_line" >&2
pages_per_s=$(sed -n 's/.*(\([0-9,]*\) pages\/s.*/\1/p' <<<"$export_line" | tr -d ,)
# The file system's own pace, for scale: cp -r of the same tree.
cp_start=$(date +%s.%N)
cp -r "$work/site" "$work/site-copy"
cp_files_per_s=$(awk -v n="$(find "$work/site-copy" -type f | wc -l)" -v a="$cp_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%d", n/(b-a)}')
rm -rf "$work/site-copy"
shm_pages_per_s=
if [[ -d /dev/shm && -w /dev/shm ]]; then
	shm=$(mktemp -d /dev/shm/porthole-bench.XXXXXX)
	shm_line=$("$work/porthole" export "$shm/site" --lang en,ko --quiet)
	rm -rf "$shm"
	shm_pages_per_s=$(sed -n 's/.*(\([0-9,]*\) pages\/s.*/\1/p' <<<"$shm_line" | tr -d ,)
fi
fi

# 2. nginx serving the exported file of the same page.
nport=$(free_port)
mkdir -p "$work/nginx/tmp"
nginx_pidfile="$work/nginx/nginx.pid"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $nginx_workers;
pid $nginx_pidfile;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type text/html;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $work/site;
        gzip_static on;
        location / { try_files \$uri \$uri.html \$uri/index.html =404; }
    }
}
CONF
"${pin_srv[@]}" "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf"
wait_http "http://127.0.0.1:$nport/ports/2556"
# 3. porthole serve (on loopback, so with the local section, as shipped),
#    and nginx, measured in alternating rounds so that both see the same
#    background load; the best round of each counts.
sport=$(free_port)
# shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
"${pin_srv[@]}" "$work/porthole" serve --addr "127.0.0.1:$sport" --db "$work/feedback.db" ${SERVE_FLAGS:-} 2>"$work/serve.log" &
serve_pid=$!
wait_http "http://127.0.0.1:$sport/healthz"
# Twice each way: the first render fills the page cache, the next request
# lets the fast front record the page.
for _ in 1 2; do
	curl -fsS -o /dev/null "http://127.0.0.1:$sport/ports/2556"
	curl -fsS -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$sport/ports/2556"
done
# The sizes each sends, plain and gzip (nginx sends the export's .gz file
# with gzip_static).
gz='Accept-Encoding: gzip'
size() { curl -fsS -o /dev/null -w '%{size_download}' ${2:+-H "$2"} "$1"; }
bport=
if [[ -n ${BASELINE_FLAGS:-} ]]; then
	bport=$(free_port)
	# shellcheck disable=SC2086 # BASELINE_FLAGS is a list of flags
	"${pin_srv[@]}" "$work/porthole" serve --addr "127.0.0.1:$bport" --db "$work/feedback-base.db" $BASELINE_FLAGS 2>"$work/serve-base.log" &
	base_pid=$!
	wait_http "http://127.0.0.1:$bport/healthz"
	curl -fsS -o /dev/null "http://127.0.0.1:$bport/ports/2556"
	curl -fsS -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$bport/ports/2556"
fi
p_size=$(size "http://127.0.0.1:$sport/ports/2556") p_gz_size=$(size "http://127.0.0.1:$sport/ports/2556" "$gz")
n_size=$(size "http://127.0.0.1:$nport/ports/2556") n_gz_size=$(size "http://127.0.0.1:$nport/ports/2556.html" "$gz")
p_rps=0 p_p99=0 n_rps=0 n_p99=0 pz_rps=0 pz_p99=0 nz_rps=0 nz_p99=0 b_rps=0 b_p99=0 bz_rps=0 bz_p99=0
for round in $(seq "${ROUNDS:-3}"); do
	echo "round $round: wrk porthole serve /ports/2556, then nginx, plain then gzip ($conns connections, $duration each)" >&2
	read -r r l < <(run_wrk "http://127.0.0.1:$sport/ports/2556")
	echo "  porthole      $r req/s, p99 $l ms" >&2
	if awk "BEGIN {exit !($r > $p_rps)}"; then p_rps=$r p_p99=$l; fi
	read -r r l < <(run_wrk "http://127.0.0.1:$nport/ports/2556")
	echo "  nginx         $r req/s, p99 $l ms" >&2
	if awk "BEGIN {exit !($r > $n_rps)}"; then n_rps=$r n_p99=$l; fi
	read -r r l < <(run_wrk "http://127.0.0.1:$sport/ports/2556" "$gz")
	echo "  porthole gzip $r req/s, p99 $l ms" >&2
	if awk "BEGIN {exit !($r > $pz_rps)}"; then pz_rps=$r pz_p99=$l; fi
	# nginx's gzip_static looks for the requested file name plus .gz.
	read -r r l < <(run_wrk "http://127.0.0.1:$nport/ports/2556.html" "$gz")
	echo "  nginx gzip    $r req/s, p99 $l ms" >&2
	if awk "BEGIN {exit !($r > $nz_rps)}"; then nz_rps=$r nz_p99=$l; fi
	if [[ -n $bport ]]; then
		read -r r l < <(run_wrk "http://127.0.0.1:$bport/ports/2556")
		echo "  baseline      $r req/s, p99 $l ms ($BASELINE_FLAGS)" >&2
		if awk "BEGIN {exit !($r > $b_rps)}"; then b_rps=$r b_p99=$l; fi
		read -r r l < <(run_wrk "http://127.0.0.1:$bport/ports/2556" "$gz")
		echo "  baseline gzip $r req/s, p99 $l ms ($BASELINE_FLAGS)" >&2
		if awk "BEGIN {exit !($r > $bz_rps)}"; then bz_rps=$r bz_p99=$l; fi
	fi
done
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status")
kill -TERM "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=
if [[ -n $base_pid ]]; then
	base_rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$base_pid/status")
	kill -TERM "$base_pid"
	wait "$base_pid" 2>/dev/null || true
	base_pid=
fi
kill -QUIT "$(cat "$nginx_pidfile")"
for _ in $(seq 50); do [[ -e $nginx_pidfile ]] || break; sleep 0.1; done
nginx_pidfile=

ratio=$(awk -v a="$p_rps" -v b="$n_rps" 'BEGIN {printf "%.2f", a/b}')
verdict() { if awk "BEGIN {exit !($1)}"; then echo ok; else echo MISSED; fi; }
printf '\n%-44s %12s  %s\n' "measure" "value" "target"
printf '%-44s %12s\n' "porthole serve /ports/2556 requests/s (best)" "$p_rps"
printf '%-44s %12s\n' "nginx (exported file) requests/s (best)" "$n_rps"
printf '%-44s %12s  >= 0.5   %s\n' "ratio porthole / nginx" "$ratio" "$(verdict "$ratio >= 0.5")"
printf '%-44s %12s  < 5      %s\n' "porthole p99 latency (ms)" "$p_p99" "$(verdict "$p_p99 < 5")"
printf '%-44s %12s\n' "nginx p99 latency (ms)" "$n_p99"
printf '%-44s %12s\n' "porthole gzip requests/s (best)" "$pz_rps"
printf '%-44s %12s\n' "nginx gzip_static requests/s (best)" "$nz_rps"
printf '%-44s %12s  >= 0.8   %s\n' "ratio porthole / nginx, gzip" "$(awk -v a="$pz_rps" -v b="$nz_rps" 'BEGIN {printf "%.2f", a/b}')" "$(verdict "$pz_rps >= 0.8 * $nz_rps")"
printf '%-44s %12s  < 5      %s\n' "porthole gzip p99 latency (ms)" "$pz_p99" "$(verdict "$pz_p99 < 5")"
printf '%-44s %12s\n' "nginx gzip p99 latency (ms)" "$nz_p99"
printf '%-44s %12s\n' "bytes /ports/2556 porthole plain / gzip" "$p_size / $p_gz_size"
printf '%-44s %12s\n' "bytes /ports/2556 nginx plain / gzip" "$n_size / $n_gz_size"
if [[ -z ${WEB_ONLY:-} ]]; then
printf '%-44s %12s  >= 10000 %s\n' "export pages/s (disk, $work)" "$pages_per_s" "$(verdict "$pages_per_s >= 10000")"
printf '%-44s %12s\n' "cp -r of the exported tree, files/s (disk)" "$cp_files_per_s"
fi
if [[ -n ${shm_pages_per_s:-} ]]; then
	printf '%-44s %12s  >= 10000 %s\n' "export pages/s (tmpfs, /dev/shm)" "$shm_pages_per_s" "$(verdict "$shm_pages_per_s >= 10000")"
fi
printf '%-44s %12s  < 64     %s\n' "serve RSS after wrk (MB)" "$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k/1024}')" "$(verdict "$rss_kb < 65536")"
printf '%-44s %12s\n' "CPUs / load average" "$(nproc) / $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %12s\n' "pinned (PIN=1)" "${PIN:-no}"
printf '%-44s %12s\n' "serve flags" "${SERVE_FLAGS:-(none)}"
if [[ -n $bport ]]; then
	printf '%-44s %12s\n' "baseline ($BASELINE_FLAGS) requests/s (best)" "$b_rps"
	printf '%-44s %12s\n' "baseline ratio to nginx, plain / gzip" "$(awk -v a="$b_rps" -v b="$n_rps" -v c="$bz_rps" -v d="$nz_rps" 'BEGIN {printf "%.2f / %.2f", a/b, c/d}')"
	printf '%-44s %12s\n' "baseline p99 (ms), plain / gzip" "$b_p99 / $bz_p99"
	printf '%-44s %12s\n' "baseline RSS after wrk (MB)" "$(awk -v k="$base_rss_kb" 'BEGIN {printf "%.1f", k/1024}')"
fi
