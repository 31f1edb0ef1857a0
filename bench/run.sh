#!/usr/bin/env bash
# make bench: the decoder benchmarks with the stock arrow-go readers as
# baselines in the same run, one core each, repeated; the raw `go test
# -bench` output is kept so any two runs (commits) compare with benchstat:
#
#     bin/benchstat bench/out/<old>.txt bench/out/<new>.txt
#
# Environment: BENCH_COUNT (repetitions, default 6), BENCH_OUT (directory,
# default bench/out), BENCH_FILTER (-bench regexp, default all), BENCH_E2E=0
# (skip the end-to-end benchmarks), BENCH_E2E_COUNT (their repetitions, 2).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
count=${BENCH_COUNT:-6}
out=${BENCH_OUT:-bench/out}
filter=${BENCH_FILTER:-.}
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || rev="$rev-dirty"
mkdir -p "$out"
raw="$out/$rev.txt"

{
	# Configuration lines ("key: value") are carried by benchstat.
	echo "commit: $rev"
	echo "nproc: $(nproc)"
	echo "cpu-model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "go: $($GO env GOVERSION)"

	# Decoders: the data is generated inside the benchmarks (1 M rows,
	# deterministic); -cpu 1 measures one core, as the targets are per core.
	# One pass at a time, count passes: each pass measures ours and the
	# stock reader back to back, so on a shared machine both see the same
	# load (go test -count would run all of ours, then all of stock).
	$GO test -c -o "$out/decode.test" ./internal/decode/
	for _ in $(seq "$count"); do
		"$out/decode.test" -test.run '^$' -test.bench "$filter" -test.benchmem -test.cpu 1 -test.count 1 -test.timeout 60m
	done

	# End to end: whole loads against a real versitygw and embedded NATS
	# (s3load run MB/s and rows/s, files/s for many small files, peak RSS
	# under /usr/bin/time -v), the Parquet writer settings, and listing and
	# publishing keys. Sizes: S3LOAD_BENCH_* (see internal/cli/bench_test.go).
	# BENCH_E2E=0 skips them.
	if [ "${BENCH_E2E:-1}" != 0 ]; then
		$GO test -run '^$' -bench 'BenchmarkLoad|BenchmarkBigFile|BenchmarkSplitFile' -benchtime 1x -count "${BENCH_E2E_COUNT:-2}" -timeout 60m ./internal/cli/
		$GO test -run '^$' -bench 'BenchmarkParquetWrite' -benchtime 2x -cpu 1 -count "${BENCH_E2E_COUNT:-2}" ./internal/pipeline/
		$GO test -run '^$' -bench 'BenchmarkListAndPublish' -benchtime 1x -count 1 ./coordinator/
	fi
} | tee "$raw"

echo
echo "== raw output: $raw"
echo "== ours against stock, same run (benchstat -col /impl):"
bin/benchstat -col /impl "$raw" || true
echo
echo "== summary (medians of $count runs):"
$GO run ./bench/table "$raw"
