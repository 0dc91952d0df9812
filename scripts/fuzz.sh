#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) in build-fuzz/ and runs each:
#   1. once over its committed seed corpus, file by file (a known reproducer fails fast);
#   2. SECONDS of fuzzing (default 60) on a copy of that corpus (the committed one is never
#      changed), with -timeout=10 -rss_limit_mb=2048.
# Fails (exit 1) on any finding and prints the crash file; prints every target's execution count.
# Artifacts, logs and the grown corpora go to a scratch directory (removed when all is clean,
# kept on a finding or with S3HA_FUZZ_KEEP=1).
# Usage: scripts/fuzz.sh [SECONDS]
#   S3HA_FUZZ_TARGETS="aws_chunked_fuzz ..." runs only these; S3HA_FUZZ_BUILD_DIR (build-fuzz);
#   S3HA_FUZZ_ARGS adds libFuzzer flags (e.g. "-jobs=2 -workers=2" or "-max_len=200000").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
seconds=${1:-60}
build_dir=${S3HA_FUZZ_BUILD_DIR:-build-fuzz}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 64; }

for tool in clang clang++; do
    command -v "$tool" >/dev/null || { echo "fuzz: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

start=$(date +%s)
echo "== fuzz: build ($build_dir, clang)"
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DS3HA_BUILD_FUZZ=ON -DS3HA_BUILD_TESTS=OFF -DS3HA_BUILD_BENCH=OFF -DS3HA_USE_JEMALLOC=OFF \
    > "$build_dir.cmake.log" 2>&1 || { cat "$build_dir.cmake.log"; exit 1; }
cmake --build "$build_dir" --target s3ha_fuzz_targets -j"$(nproc)" > "$build_dir.build.log" 2>&1 ||
    { grep -E "error|Error" "$build_dir.build.log" | head -40; echo "fuzz: build failed ($build_dir.build.log)"; exit 1; }
built=$(date +%s)
echo "fuzz: built in $((built - start)) s"

if [[ -n ${S3HA_FUZZ_TARGETS:-} ]]; then
    read -ra targets <<< "$S3HA_FUZZ_TARGETS"
else
    targets=()
    for bin in "$build_dir"/fuzz/*_fuzz; do
        [[ -x $bin ]] && targets+=("$(basename "$bin")")
    done
fi
((${#targets[@]})) || { echo "fuzz: no targets in $build_dir/fuzz" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/s3ha-fuzz.XXXXXX")
# Stacks with file:line; UBSan aborts are findings too (the build makes them fatal).
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
[[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer
read -ra extra <<< "${S3HA_FUZZ_ARGS:-}"
common=(-timeout=10 -rss_limit_mb=2048)

failed=()
summary=()
for name in "${targets[@]}"; do
    bin=$repo/$build_dir/fuzz/$name
    seeds=$repo/tests/fuzz/corpus/$name
    work=$scratch/$name
    mkdir -p "$work/corpus" "$work/artifacts" "$work/cwd"
    [[ -x $bin ]] || { echo "fuzz: $bin missing" >&2; failed+=("$name"); continue; }
    [[ -d $seeds ]] || echo "fuzz: warning: no seed corpus $seeds"

    # 1. The committed corpus, exactly, each file once. Run from a scratch working directory:
    # a target may create or read files there (relative paths).
    mapfile -t files < <(find "$seeds" -type f 2>/dev/null | sort)
    if ((${#files[@]})); then
        if ! (cd "$work/cwd" && "$bin" "${common[@]}" "${files[@]}") > "$work/replay.log" 2>&1; then
            crash=$(grep -E "^Running: " "$work/replay.log" | tail -1 | sed 's/^Running: //')
            echo "fuzz: $name FAILED on its committed corpus: $crash"
            grep -E "ERROR|oracle failed|runtime error|#[0-9]+ 0x|SUMMARY|threw|==[0-9]+==" \
                "$work/replay.log" | head -40 || tail -40 "$work/replay.log"
            failed+=("$name")
            summary+=("$name: replay of ${#files[@]} seeds FAILED ($crash)")
            continue
        fi
    fi

    # 2. Fuzz a copy of the corpus.
    ((${#files[@]})) && cp "${files[@]}" "$work/corpus/"
    dict=()
    [[ -f $repo/tests/fuzz/$name.dict ]] && dict=(-dict="$repo/tests/fuzz/$name.dict")
    t0=$(date +%s)
    rc=0
    (cd "$work/cwd" && "$bin" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "${dict[@]}" "${extra[@]}" "$work/corpus") \
        > "$work/fuzz.log" 2>&1 || rc=$?
    t1=$(date +%s)
    execs=$(grep -Eo "stat::number_of_executed_units: *[0-9]+" "$work/fuzz.log" |
        awk '{s += $2} END {print s + 0}')
    corpus=$(find "$work/corpus" -type f | wc -l)
    elapsed=$((t1 - t0))
    rate=$((execs / (elapsed > 0 ? elapsed : 1)))
    mapfile -t crashes < <(find "$work/artifacts" -type f | sort)
    if ((rc != 0 || ${#crashes[@]})); then
        echo "fuzz: $name FOUND a problem (exit $rc):"
        grep -E "ERROR|oracle failed|runtime error|#[0-9]+ 0x|SUMMARY|threw|Test unit written" \
            "$work/fuzz.log" | head -40 || tail -40 "$work/fuzz.log"
        for c in "${crashes[@]}"; do echo "fuzz: crash file: $c"; done
        failed+=("$name")
        summary+=("$name: FINDING after $execs executions (${crashes[*]:-see $work/fuzz.log})")
    else
        summary+=("$name: $execs executions in ${elapsed} s ($rate/s), ${#files[@]} seeds -> $corpus corpus files, 0 findings")
    fi
done

echo "== fuzz: summary (${seconds} s per target; total $(($(date +%s) - start)) s incl. build)"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (logs, artifacts and corpora kept in $scratch)"
    exit 1
fi
if [[ ${S3HA_FUZZ_KEEP:-0} == 1 ]]; then
    echo "fuzz: logs and grown corpora kept in $scratch"
else
    rm -rf "$scratch"
fi
echo "fuzz: ok"
