# shellcheck shell=bash
# Process helpers shared by scripts/demo.sh and bench/run-proxy-bench.sh (source this file).
#
# Every server is started in its own session (so a Ctrl-C in the terminal reaches this script,
# not the servers), with its output in its own log file, and is stopped only through the PID we
# started: SIGTERM, then SIGKILL after a grace period. The caller installs the trap:
#   trap 'procs_stop_all' EXIT
#
# Clients and servers get a clean environment (the machine's CA-bundle, proxy and AWS profile
# variables change how S3 clients behave; rclone even fails on AWS_CA_BUNDLE over plain http).

# Debian's tools first: the PATH of the machine may put other python/aws/node installs first.
PROCS_SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# `procs_env HOME_DIR`: sets the array PROCS_ENV to an `env -i ...` prefix giving a command an
# allow-listed environment with HOME_DIR as its home: "${PROCS_ENV[@]}" cmd args...
procs_env() {
    # shellcheck disable=SC2054 # the commas are part of NO_PROXY's value
    PROCS_ENV=(env -i PATH="$PROCS_SYSTEM_PATH" HOME="$1" LANG=C.UTF-8 LC_ALL=C.UTF-8
        NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost)
    [[ -z ${TMPDIR:-} ]] || PROCS_ENV+=(TMPDIR="$TMPDIR")
}

# `procs_clean_env HOME_DIR cmd...`: runs cmd with the environment of `procs_env HOME_DIR`.
procs_clean_env() {
    procs_env "$1"
    shift
    "${PROCS_ENV[@]}" "$@"
}

# `procs_free_port [PREFERRED]`: PREFERRED if nothing listens there and it can be bound on
# 127.0.0.1, else a port the kernel picks. Another process may still take it before our server
# binds: callers check that their server came up.
procs_free_port() {
    /usr/bin/python3 - "${1:-0}" <<'EOF'
import socket, sys
want = int(sys.argv[1])
def try_bind(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()
port = try_bind(want) if want else None
print(port or try_bind(0))
EOF
}

procs_pids=()  # PIDs we started, in start order
procs_names=() # their names, same index

# `procs_start NAME LOG cmd...`: starts cmd in its own session, output to LOG; sets PROCS_PID.
procs_start() {
    local name=$1 log=$2
    shift 2
    echo "# $name: $*" >>"$log"
    # setsid execs cmd directly (we are not a process-group leader), so $! is cmd's PID.
    setsid "$@" </dev/null >>"$log" 2>&1 &
    PROCS_PID=$!
    procs_pids+=("$PROCS_PID")
    procs_names+=("$name")
}

procs_alive() { kill -0 "$1" 2>/dev/null; }

# `procs_wait_http URL PID TIMEOUT_S [WHAT [LOG]]`: until URL answers with any HTTP status.
# Fails early when PID exits; on failure prints the last lines of LOG (if given) to stderr.
procs_wait_http() {
    local url=$1 pid=$2 timeout=$3 what=${4:-$1} log=${5:-} deadline=$((SECONDS + $3)) why
    while ! curl -s -o /dev/null --noproxy '*' --max-time 1 "$url"; do
        why=
        procs_alive "$pid" || why="exited before it was ready"
        ((SECONDS < deadline)) || why="not ready after ${timeout}s"
        if [[ -n $why ]]; then
            echo "error: $what (pid $pid) $why" >&2
            [[ -z $log ]] || tail -n 20 "$log" | sed "s|^|  $what log: |" >&2
            return 1
        fi
        sleep 0.1
    done
}

# `procs_stop PID [GRACE_S]`: SIGTERM, SIGKILL after GRACE_S (default 10), reap.
procs_stop() {
    local pid=$1 grace=${2:-10} i
    procs_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        procs_alive "$pid" || break
        sleep 0.1
    done
    if procs_alive "$pid"; then
        echo "warning: pid $pid did not stop within ${grace}s; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# `procs_stop_all`: stops every process we started, the last started first.
procs_stop_all() {
    local i
    for ((i = ${#procs_pids[@]} - 1; i >= 0; i--)); do
        procs_stop "${procs_pids[$i]}"
    done
    procs_pids=()
    procs_names=()
}

# `procs_peak_rss_kib PID`: VmHWM (peak resident set) of PID in KiB, empty if it is gone.
procs_peak_rss_kib() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || true
}
