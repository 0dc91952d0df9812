#!/usr/bin/env bash
# The data-path benchmark: the same requests direct to a static nginx backend, through HAProxy and
# through s3ha, side by side. See bench/README.md for what is measured and how to read it.
#
# Usage: bash bench/run-proxy-bench.sh            (as root on Debian 12; installs nginx, haproxy
#                                                  and wrk with apt if they are missing)
# Environment (defaults in brackets):
#   S3HA_BIN=PATH        s3ha binary to measure [build it: BUILD_DIR=build-release BUILD_TYPE=Release]
#   BENCH_TARGETS        which targets to run [direct,haproxy,haproxy_splice,floor,s3ha];
#                        floor = the Asio relay floor (bench/relay_floor.cpp), GETs only;
#                        haproxy_splice = HAProxy splicing bodies with 1 MiB pipes, large objects only
#   BENCH_WORKERS        nginx worker processes = HAProxy nbthread = s3ha workers [2]
#   WRK_THREADS [2]  WRK_CONNS [64]  WRK_WARMUP [5s] (once per target)
#   SMALL_ROUNDS [3]  WRK_DURATION [5s]  wrk runs per target, round-robin over the targets, and
#                        the length of each
#   LARGE_MIB [1024]     size of the large object;  LARGE_RUNS [5]  GET and PUT runs per target
#                        (round-robin over the targets)
#   BENCH_PERF=1         also `perf record` + `perf stat` (syscall counts) s3ha and HAProxy during
#                        their wrk runs and large transfers (files next to the result; the
#                        profiler costs the proxies some throughput: use separate runs for numbers)
#   BENCH_CALLGRIND=1    also count the instructions s3ha executes per small GET (valgrind's
#                        callgrind, installed with apt if missing): exact and repeatable, unlike
#                        timings, so small changes to the per-request path show (~1 min more)
#   BENCH_OUT=DIR        where the result file goes [bench/results]
#   BENCH_NICE=N         run everything (servers and clients alike) at nice N, e.g. -10 on a
#                        machine shared with compiles; recorded in the result [unset: no change]
set -euo pipefail
[[ -z ${S3HA_BIN:-} ]] || S3HA_BIN=$(realpath -- "$S3HA_BIN") # relative to the caller
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=scripts/lib/procs.sh
source scripts/lib/procs.sh

targets=${BENCH_TARGETS:-direct,haproxy,haproxy_splice,floor,s3ha}
workers=${BENCH_WORKERS:-2}
wrk_threads=${WRK_THREADS:-2}
wrk_conns=${WRK_CONNS:-64}
wrk_duration=${WRK_DURATION:-5s}
small_rounds=${SMALL_ROUNDS:-3}
wrk_warmup=${WRK_WARMUP:-5s}
large_mib=${LARGE_MIB:-1024}
large_runs=${LARGE_RUNS:-5}
out_dir=${BENCH_OUT:-$repo/bench/results}
access_key=bench-access-key
secret_key=bench-secret-key
region=us-east-1
bucket=bench
wants() { [[ ",$targets," == *",$1,"* ]]; }

# -- tools -------------------------------------------------------------------------------------
missing=()
for tool in nginx:nginx haproxy:haproxy wrk:wrk curl:curl; do
    command -v "${tool%%:*}" >/dev/null || [[ -x /usr/sbin/${tool%%:*} ]] || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
    echo "bench: apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
export PATH=$PATH:/usr/sbin
/usr/bin/python3 -c 'import boto3' 2>/dev/null || bash scripts/install-deps.sh

if wants s3ha; then
    if [[ -z ${S3HA_BIN:-} ]]; then
        echo "bench: building s3ha (Release) in build-release/"
        BUILD_DIR=build-release BUILD_TYPE=Release bash scripts/build.sh
        S3HA_BIN=$repo/build-release/s3ha
    fi
    [[ -x $S3HA_BIN ]] || { echo "error: no s3ha binary at $S3HA_BIN" >&2; exit 1; }
fi

# -- scratch folder: tmpfs when it has room (objects are served from and written to memory) ----
need_kib=$(((large_mib * 3 + 256) * 1024))
base=${TMPDIR:-/tmp}
if [[ -d /dev/shm && -w /dev/shm ]] && (($(df -Pk /dev/shm | awk 'NR==2 {print $4}') > need_kib)); then
    base=/dev/shm
fi
work=$(mktemp -d "$base/s3ha-bench.XXXXXX")
raw=$work/raw
mkdir -p "$raw" "$work/www/$bucket" "$work/nginx/tmp" "$work/client"
status=1
cleanup() {
    trap - EXIT INT TERM
    procs_stop_all
    if [[ $status == 0 ]]; then rm -rf "$work"; else echo "bench: scratch folder kept: $work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "bench: interrupted"; status=130; cleanup' INT TERM

meta() { echo "$1=$2" >>"$raw/meta.txt"; }
note() { meta notes "$1"; echo "bench: note: $1"; }
run_client() { procs_clean_env "$work/client" "$@"; } # wrk/curl/python with a clean environment

echo "bench: scratch folder $work"
if [[ -n ${BENCH_NICE:-} ]]; then
    # Inherited by every server and client started below: all targets get the same priority.
    renice -n "$BENCH_NICE" -p $$ >/dev/null
    note "Every process of the run (nginx, HAProxy, s3ha, wrk, curl) ran at nice $BENCH_NICE, ahead of other work on the machine."
fi
# Other work on the machine (a compile, a test suite) skews every column: record how busy the
# CPUs were during 3 s before the run (the load average lags by minutes), and say so if > 10 %.
cpu_busy_pct() { # busy % of all CPUs over $1 seconds, from /proc/stat
    local a b
    read -ra a </proc/stat
    sleep "$1"
    read -ra b </proc/stat
    local idle=$(((b[4] + b[5]) - (a[4] + a[5]))) total=0 i
    for ((i = 1; i < ${#a[@]}; i++)); do total=$((total + b[i] - a[i])); done
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}
busy_before=$(cpu_busy_pct 3)
meta busy_before "$busy_before"
meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
if ((busy_before > 10)); then
    note "The CPUs were ${busy_before}% busy with other work just before the run: expect lower, noisier numbers."
fi
head -c 4096 /dev/urandom >"$work/www/$bucket/small-4k"
echo "bench: generating the ${large_mib} MiB object"
head -c $((large_mib * 1024 * 1024)) /dev/urandom >"$work/www/$bucket/large"
large_file=$work/www/$bucket/large

# -- nginx: the static backend -------------------------------------------------------------------
nginx_port=$(procs_free_port 0)
cat >"$work/nginx/nginx.conf" <<EOF
user root;                       # the scratch folder is private to root (mktemp -d)
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000; # wrk and the proxies keep their connections for the whole run
    keepalive_timeout 120s;
    client_body_temp_path $work/nginx/tmp;
    proxy_temp_path $work/nginx/tmp;
    fastcgi_temp_path $work/nginx/tmp;
    uwsgi_temp_path $work/nginx/tmp;
    scgi_temp_path $work/nginx/tmp;
    server {
        listen 127.0.0.1:$nginx_port backlog=4096;
        root $work/www;
        client_max_body_size 0;
        client_body_buffer_size 1m;
        location = /health { return 200 "ok\n"; }
        # GET serves the objects; PUT reads the whole body into a temp file on the same tmpfs
        # and renames it (201/204) before answering, as an S3 server answers after the body.
        location /$bucket/ {
            dav_methods PUT;
            create_full_put_path on;
        }
    }
}
EOF
procs_start nginx "$work/nginx/out.log" nginx -e "$work/nginx/error.log" -p "$work/nginx" \
    -c "$work/nginx/nginx.conf" -g "daemon off;"
procs_wait_http "http://127.0.0.1:$nginx_port/health" "$PROCS_PID" 10 nginx "$work/nginx/error.log"
direct=http://127.0.0.1:$nginx_port

# -- HAProxy: http mode, keep-alive on both sides ------------------------------------------------
# haproxy_config PORT [GLOBAL_LINE [DEFAULTS_LINE...]]: the configuration, with optional extra lines.
haproxy_config() {
    cat <<EOF
global
    nbthread $workers
    maxconn 4000                 # HAProxy needs ~2 fds per connection (+ pipes): under ulimit -n
    ${2:-}
defaults
    mode http
    option http-keep-alive
    http-reuse safe
    timeout connect 5s
    timeout client 120s
    timeout server 120s
$(printf '    %s\n' "${@:3}")
frontend fe
    bind 127.0.0.1:$1
    default_backend nginx
backend nginx
    server nginx 127.0.0.1:$nginx_port
EOF
}
# start_haproxy NAME [GLOBAL_LINE [DEFAULTS_LINE...]]: sets NAME_url and NAME_pid.
start_haproxy() {
    local name=$1 port
    shift
    port=$(procs_free_port 0)
    haproxy_config "$port" "$@" >"$work/$name.cfg"
    procs_start "$name" "$work/$name.log" haproxy -db -f "$work/$name.cfg"
    printf -v "${name}_pid" '%s' "$PROCS_PID"
    procs_wait_http "http://127.0.0.1:$port/health" "$PROCS_PID" 10 "$name" "$work/$name.log"
    printf -v "${name}_url" '%s' "http://127.0.0.1:$port"
}
haproxy_url=
haproxy_splice_url=
wants haproxy && start_haproxy haproxy
# The same HAProxy moving bodies kernel to kernel, with pipes of s3ha's size (1 MiB; HAProxy's
# default is the system's 64 KiB): what a production proxy's fastest relay does on this machine,
# as a reference for the large objects (a 4 KiB body is not spliced).
wants haproxy_splice && start_haproxy haproxy_splice "tune.pipesize 1048576" \
    "option splice-request" "option splice-response"

# -- the Asio relay floor: what a minimal relay built like s3ha costs (bench/relay_floor.cpp) ----
floor_url=
floor_pid=
if wants floor; then
    floor_port=$(procs_free_port 0)
    if g++ -std=c++20 -O2 -o "$work/relay_floor" bench/relay_floor.cpp -pthread >"$work/relay_floor.log" 2>&1; then
        procs_start floor "$work/relay_floor.log" "$work/relay_floor" "$floor_port" "$nginx_port" "$workers"
        floor_pid=$PROCS_PID
        if procs_wait_http "http://127.0.0.1:$floor_port/health" "$floor_pid" 10 relay_floor "$work/relay_floor.log"; then
            floor_url=http://127.0.0.1:$floor_port
        else
            note "the Asio floor relay did not start: floor not measured."
            procs_stop "$floor_pid"
            floor_pid=
        fi
    else
        note "bench/relay_floor.cpp did not compile ($(head -n 1 "$work/relay_floor.log")): floor not measured."
    fi
fi

# -- s3ha: verifies the client's SigV4, re-signs for the backend (nginx ignores auth) ------------
s3ha_url=
s3ha_pid=
if wants s3ha; then
    s3ha_port=$(procs_free_port 0)
    admin_port=$(procs_free_port 0)
    cat >"$work/s3ha.yaml" <<EOF
server:
  listen: "127.0.0.1:$s3ha_port"
  workers: $workers
  region: $region
admin:
  listen: "127.0.0.1:$admin_port"
credentials:
  - access_key: $access_key
    secret_key: $secret_key
backends:
  - name: nginx
    endpoint: $direct
    region: $region
    access_key: backend-key
    secret_key: backend-secret
    health_check: {type: http, path: /health, interval: 1s, timeout: 500ms, rise: 1, fall: 3}
routing:
  upstream_pool: {max_idle_per_backend: 128}  # like HAProxy's unlimited idle pool: >= wrk -c
logging: {level: warn, access_log: false}     # HAProxy and nginx log nothing either
EOF
    procs_start s3ha "$work/s3ha.log" "$S3HA_BIN" --config "$work/s3ha.yaml"
    s3ha_pid=$PROCS_PID
    if procs_wait_http "http://127.0.0.1:$s3ha_port/" "$s3ha_pid" 15 s3ha "$work/s3ha.log"; then
        s3ha_url=http://127.0.0.1:$s3ha_port
    else
        note "s3ha did not start ($(tail -n 1 "$work/s3ha.log")): s3ha columns not measured."
        procs_stop "$s3ha_pid"
        s3ha_pid=
    fi
fi

# Presigned URLs (7-day expiry), generated for the s3ha endpoint; direct, HAProxy and the floor get
# the same path and query (nginx ignores them), so all targets see the same request bytes.
sign_host=${s3ha_url:-http://127.0.0.1:1}
presign() { run_client /usr/bin/python3 bench/proxy_bench.py presign "$sign_host" "$access_key" "$secret_key" "$region" "$1" "$bucket" "$2"; }
small_pq=$(presign GET small-4k | sed 's|^http://[^/]*||')
large_pq=$(presign GET large | sed 's|^http://[^/]*||')
put_pq=$(presign PUT upload | sed 's|^http://[^/]*||')

declare -A base_url=([direct]=$direct [haproxy]=$haproxy_url [haproxy_splice]=$haproxy_splice_url
    [floor]=$floor_url [s3ha]=$s3ha_url)
active=()
for t in direct haproxy haproxy_splice floor s3ha; do
    wants "$t" && [[ -n ${base_url[$t]} ]] && active+=("$t")
done

# s3ha answers once its health check has marked nginx up: wait for a 200 (bounded).
if [[ -n $s3ha_url ]]; then
    for ((i = 0; i < 50; i++)); do
        code=$(run_client curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$s3ha_url$small_pq" || true)
        [[ $code == 200 ]] && break
        sleep 0.2
    done
    if [[ $code != 200 ]]; then
        note "s3ha answered $code (not 200) to the presigned small GET before the run; its numbers count failures (see the errors row)."
    fi
fi

# -- small-object GET: wrk -----------------------------------------------------------------------
wrk_args="-t$wrk_threads -c$wrk_conns -d$wrk_duration --latency"

# proxy_pid TARGET: the PID of a proxy target's process (empty for direct, or when not running).
proxy_pid() {
    case $1 in
    s3ha) echo "$s3ha_pid" ;; haproxy) echo "${haproxy_pid:-}" ;;
    haproxy_splice) echo "${haproxy_splice_pid:-}" ;; floor) echo "$floor_pid" ;;
    esac
}
# BENCH_PERF=1: `perf record` (profile) and `perf stat` (syscall counts: bytes per recv/send
# call, timer re-arms) on the proxy (s3ha, and the HAProxys as a reference) during its first
# small-GET round and during its large transfers.
perf_pids=()
perf_start() { # perf_start TARGET PHASE
    local pid
    [[ $1 != floor ]] && pid=$(proxy_pid "$1") || return 0
    [[ ${BENCH_PERF:-0} == 1 && -n $pid ]] && command -v perf >/dev/null || return 0
    perf record -F 499 -g -p "$pid" -o "$work/perf-$1-$2.data" >"$work/perf-$1-$2.log" 2>&1 &
    perf_pids+=($!)
    perf stat -e syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom \
        -e syscalls:sys_enter_sendto,syscalls:sys_enter_readv,syscalls:sys_enter_writev \
        -e syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_timerfd_settime \
        -e syscalls:sys_enter_epoll_wait,syscalls:sys_enter_splice,context-switches -p "$pid" \
        -o "$work/perfstat-$1-$2.txt" 2>/dev/null &
    perf_pids+=($!)
}
perf_stop() {
    local p
    for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done # perf writes on SIGINT
    for p in "${perf_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    perf_pids=()
}
# CPU time (user + system, clock ticks) the proxy process has used so far: per request it says
# how much of the two shared cores each proxy needs, independent of how wrk and nginx fare.
proxy_cpu_ticks() {
    local pid
    pid=$(proxy_pid "$1")
    [[ -n $pid ]] || return 0
    awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true
}
# Round-robin: SMALL_ROUNDS wrk runs per target, one per target per round, so that the machine's
# drift (other tenants, the placement of the processes on the two cores) weighs on every target
# alike instead of on whichever ran in a bad minute. Each target is warmed up once, first.
small=()
declare -A small_ticks=()
for t in "${active[@]}"; do
    [[ $t != haproxy_splice ]] || continue # a large-object reference only
    small+=("$t")
    url=${base_url[$t]}$small_pq
    code=$(run_client curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
    echo "bench: [$t] small GET: first answer $code; warm-up $wrk_warmup"
    run_client wrk -t"$wrk_threads" -c"$wrk_conns" -d"$wrk_warmup" "$url" >"$raw/wrk-warmup-$t.txt" 2>&1 || true
done
for ((r = 1; r <= small_rounds; r++)); do
    for t in "${small[@]}"; do
        ((r > 1)) || perf_start "$t" small
        cpu_before=$(proxy_cpu_ticks "$t")
        # shellcheck disable=SC2086 # wrk_args is a list of options
        run_client wrk $wrk_args "${base_url[$t]}$small_pq" >"$raw/wrk-$t-$r.txt" 2>&1 || true
        cpu_after=$(proxy_cpu_ticks "$t")
        perf_stop
        [[ -z $cpu_before || -z $cpu_after ]] || small_ticks[$t]=$((${small_ticks[$t]:-0} + cpu_after - cpu_before))
        echo "bench: [$t] small GET, round $r/$small_rounds:" \
            "$(grep -E "Requests/sec|^ +99%|Non-2xx|Socket errors" "$raw/wrk-$t-$r.txt" | tr -s ' \n' ' ')"
    done
done
for t in "${!small_ticks[@]}"; do
    meta "${t}_cpu_seconds" "$(awk -v t="${small_ticks[$t]}" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')"
done

# -- large objects: GET to /dev/null and PUT from the tmpfs file, curl ---------------------------
# Round-robin over the targets (one GET + PUT each per round), so that the machine's state drifting
# during the phase (placement of the processes on the two cores varies from run to run by 1.5x
# and more) weighs on every target alike, not on whichever ran last.
cat "$large_file" >/dev/null # in the page cache before the first run
for ((i = 1; i <= large_runs; i++)); do
    for t in "${active[@]}"; do
        perf_start "$t" "large-$i"
        cpu_before=$(proxy_cpu_ticks "$t")
        get=$(run_client curl -s -o /dev/null --max-time 300 \
            -w '%{http_code} %{speed_download} %{size_download}' "${base_url[$t]}$large_pq") || get="000 0 0"
        read -r code speed size <<<"$get"
        # A GET counts only if the whole object arrived.
        [[ $code != 2* || $size == $((large_mib * 1024 * 1024)) ]] || code=short-body
        echo "$code $speed" >>"$raw/get-$t.txt"
        cpu_mid=$(proxy_cpu_ticks "$t")
        put_ticks=
        if [[ $t != floor ]]; then # the floor relays no request bodies
            put=$(run_client curl -s -o /dev/null --max-time 300 -H 'Expect:' -T "$large_file" \
                -w '%{http_code} %{speed_upload}' "${base_url[$t]}$put_pq") || put="000 0"
            # A PUT counts only if nginx stored every byte.
            if [[ $put == 2* ]] && ! cmp -s "$large_file" "$work/www/$bucket/upload"; then
                put="stored-bytes-differ 0"
            fi
            echo "$put" >>"$raw/put-$t.txt"
            [[ -z $cpu_mid ]] || put_ticks=$(($(proxy_cpu_ticks "$t") - cpu_mid))
        fi
        # The proxy's CPU time (clock ticks) for the GET and for the PUT: what moving them cost it.
        [[ -z $cpu_before ]] || echo "$((cpu_mid - cpu_before)) $put_ticks" >>"$raw/cpu-large-$t.txt"
        rm -f "$work/www/$bucket/upload" # keep tmpfs use bounded
        perf_stop
    done
done
for t in "${active[@]}"; do
    echo "bench: [$t] ${large_mib} MiB GET (code B/s): $(tr '\n' ' ' <"$raw/get-$t.txt")"
    [[ ! -f $raw/put-$t.txt ]] || echo "bench: [$t] ${large_mib} MiB PUT (code B/s): $(tr '\n' ' ' <"$raw/put-$t.txt")"
done

# -- peak memory, versions, report ---------------------------------------------------------------
[[ -z ${haproxy_pid:-} ]] || meta haproxy_vmhwm_kib "$(procs_peak_rss_kib "$haproxy_pid")"
[[ -z ${haproxy_splice_pid:-} ]] || meta haproxy_splice_vmhwm_kib "$(procs_peak_rss_kib "$haproxy_splice_pid")"
[[ -z $s3ha_pid ]] || meta s3ha_vmhwm_kib "$(procs_peak_rss_kib "$s3ha_pid")"
if [[ -n $s3ha_pid ]] && ! procs_alive "$s3ha_pid"; then note "s3ha exited during the run (see its log)."; fi
# BENCH_CALLGRIND=1: instructions per small GET, counted by callgrind in s3ha (all threads) during
# a fixed wrk run after a warm-up, on the same port (the presigned URL signs its host). Under
# valgrind OpenSSL sees no SHA-NI, so its share is larger than on the real CPU: compare runs
# with each other, not with the timings.
callgrind_file=
if [[ ${BENCH_CALLGRIND:-0} == 1 && -n $s3ha_pid ]]; then
    command -v valgrind >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind
    procs_stop "$s3ha_pid"
    procs_start s3ha-callgrind "$work/s3ha-callgrind.log" valgrind --tool=callgrind \
        --callgrind-out-file="$work/callgrind.out" "$S3HA_BIN" --config "$work/s3ha.yaml"
    cg_pid=$PROCS_PID
    cg_ready=
    for ((i = 0; i < 150; i++)); do # the health check must mark nginx up first
        code=$(run_client curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$s3ha_url$small_pq" || true)
        [[ $code == 200 ]] && { cg_ready=1; break; }
        sleep 0.2
    done
    if [[ -n $cg_ready ]]; then
        run_client wrk -t1 -c4 -d3s "$s3ha_url$small_pq" >/dev/null
        callgrind_control -z "$cg_pid" >/dev/null
        cg_requests=$(run_client wrk -t1 -c4 -d10s "$s3ha_url$small_pq" | awk '/requests in/ {print $1}')
        callgrind_control -d "$cg_pid" >/dev/null
        sleep 1
        callgrind_file=${out_dir}/.callgrind.txt
        cg_dump=$(ls "$work"/callgrind.out.*)
        mkdir -p "$out_dir"
        callgrind_annotate --threshold=100 "$cg_dump" 2>/dev/null | awk -v n="$cg_requests" '
            /PROGRAM TOTALS/ { gsub(",", "", $1); printf "# %s requests, %.0f instructions per request\n", n, $1 / n }
            /^ *[0-9,]+ \(/ && !/PROGRAM TOTALS/ { c = $1; gsub(",", "", c); $1 = ""; $2 = "";
                printf "%8.0f %s\n", c / n, substr($0, 3, 160) }' >"$callgrind_file"
        meta s3ha_instructions_per_get "$(awk 'NR==1 {print $4}' "$callgrind_file")"
        echo "bench: [s3ha] $(head -n 1 "$callgrind_file" | sed 's/^# //') (callgrind)"
    else
        note "s3ha under callgrind did not answer 200 ($code): instructions not counted."
    fi
    procs_stop "$cg_pid"
fi
meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
meta cores "$(nproc)"
meta kernel "$(uname -r)"
meta workers "$workers"
meta wrk_args "$wrk_args"
meta wrk_warmup "$wrk_warmup"
meta small_rounds "$small_rounds"
meta clk_tck "$(getconf CLK_TCK)"
meta large_mib "$large_mib"
meta large_runs "$large_runs"
meta nginx_version "$(nginx -v 2>&1 | sed 's|.*nginx/||')"
meta haproxy_version "$(haproxy -v | awk 'NR==1 {print $3}')"
meta wrk_version "$(wrk -v 2>&1 | awk 'NR==1 {print $1, $2}')"
meta curl_version "$(curl --version | awk 'NR==1 {print $1, $2}')"
if wants s3ha; then
    meta s3ha_bin "$S3HA_BIN"
    meta s3ha_version "$("$S3HA_BIN" --version 2>&1 | head -n 1)"
fi

mkdir -p "$out_dir"
result=$out_dir/proxy-$(date '+%F').md
[[ ! -e $result ]] || result=$out_dir/proxy-$(date '+%F-%H%M%S').md
/usr/bin/python3 bench/proxy_bench.py report "$raw" >"$result"
if [[ -n $callgrind_file ]]; then
    mv "$callgrind_file" "${result%.md}-callgrind-s3ha.txt"
    echo "bench: instructions per small GET by function: ${result%.md}-callgrind-s3ha.txt"
fi
phases=(small)
for ((i = 1; i <= large_runs; i++)); do phases+=("large-$i"); done
for t in s3ha haproxy haproxy_splice; do
    for phase in "${phases[@]}"; do
        [[ -f $work/perf-$t-$phase.data ]] || continue
        f=${result%.md}-perf-$t-$phase.txt
        if [[ $phase == small ]]; then
            what="wrk $wrk_args, 4 KiB GETs, round 1: $(awk '/requests in/ {print $1}' "$raw/wrk-$t-1.txt") requests"
        else
            what="round ${phase#large-}: ${large_mib} MiB GET + PUT: $((2 * large_mib)) MiB in and out"
        fi
        {
            echo "# $t, phase $phase ($what)"
            echo "# perf stat: syscall counts"
            grep -E "syscalls:|context-switches|seconds time" "$work/perfstat-$t-$phase.txt" 2>/dev/null || true
            echo "# perf report (self time)"
        } >"$f"
        perf report -i "$work/perf-$t-$phase.data" --stdio --no-children -g none --percent-limit 0.3 \
            --sort dso,symbol 2>/dev/null | grep -v "^#" | cut -c1-220 | sed "s/ *$//" |
            grep -v '^$' | head -n 100 >>"$f" || true
        echo "bench: perf profile of $t ($phase): $f"
    done
done
echo
cat "$result"
echo "bench: written to $result"
status=0
