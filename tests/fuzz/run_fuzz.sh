#!/bin/sh
# Runs one libFuzzer target for a fixed time, as the 'fuzz' test suite does:
#
#   run_fuzz.sh FUZZER SEED_DIR WORK_DIR SECONDS
#
# SEED_DIR is only read; what the fuzzer finds goes to WORK_DIR/corpus (kept
# between runs, so coverage grows) and any crashing input to
# WORK_DIR/artifacts/. Exits non-zero on a crash, a sanitizer report, a leak
# or an input that runs longer than 10 s.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" "$work/corpus" "$seeds" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1
