# s3load: the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := bash
GO ?= go
# Every go command here builds as the static binaries and images do
# (-trimpath, no cgo): lint, the tests, the binaries tests build and the
# images then share one compile of each package. Without it `make test`
# compiled everything a second time for the e2e images (most of their 4
# minutes on a 2-core machine). Only the DuckDB harness needs cgo.
export GOFLAGS += -trimpath
export CGO_ENABLED := 0
BIN := $(CURDIR)/bin
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(BIN)/versitygw
export S3LOAD_VERSITYGW := $(VERSITYGW)
NATS_SERVER := $(BIN)/nats-server
export S3LOAD_NATS_SERVER := $(NATS_SERVER)
NATS_VERSION = $(shell $(GO) list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)

.PHONY: all build demo test test-unit test-integration test-e2e lint tools clean images e2e-images soak fuzz

all: build

build:
	$(GO) build -o $(BIN)/s3load ./cmd/s3load

# The S3 server the tests and the demo run against, and the nats-server the
# soak test kills and restarts (the version in go.mod), built from source
# through the Go module proxy (no image or binary download).
tools: $(VERSITYGW) $(NATS_SERVER) system-tools

# Programs from Debian's packages the tests use: bzip2 (a test builds a
# bzip2 bomb), unshare (a test gives s3load a tiny tmpfs as its target) and
# chromium (a test drives the status page in a headless browser).
.PHONY: system-tools
system-tools:
	@command -v bzip2 >/dev/null && command -v unshare >/dev/null && command -v chromium >/dev/null || \
		{ echo "installing bzip2, util-linux and chromium"; apt-get update -qq && apt-get install -y -qq bzip2 util-linux chromium; }
$(VERSITYGW):
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
$(NATS_SERVER):
	GOBIN=$(BIN) $(GO) install github.com/nats-io/nats-server/v2@$(NATS_VERSION)

# Starts versitygw with a generated demo bucket, runs a full load with an
# embedded NATS server and local workers, and prints the report.
demo: tools
	$(GO) run ./cmd/s3load-demo --versitygw $(VERSITYGW) --out $(CURDIR)/demo-out

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

# The whole suite, against real servers (versitygw and nats-server), then
# the end-to-end tests in containers.
test: tools lint
	$(GO) test -count=1 -timeout 18m ./...
	$(MAKE) test-race
	$(MAKE) fuzz
	$(MAKE) test-e2e

# The data race detector over the packages of policy, where goroutines
# meet most: 2.8 min on 2 cores of a slow host from an empty build cache,
# most of it building the standard library and dependencies under the
# detector. internal/natsq added 75 s more to that (it builds nats-server
# under the detector) and the suite had gone over 20 minutes there, so it,
# the in-process loads of internal/cli, and pipeline, decode and
# flatparquet run under it by hand (all passed on 2026-12-05):
# CGO_ENABLED=1 go test -race ./internal/...
.PHONY: test-race
test-race:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./coordinator ./worker ./messages

# The decoders' fuzz targets, each for a short budget (the seed corpora
# and crashers found earlier run in every `go test` too). Longer runs:
# go test -run '^$$' -fuzz '^FuzzParquet$$' -fuzztime 10m -fuzzminimizetime 1x ./internal/decode
# go1.26's fuzzing engine can end a run that found nothing with a bare
# "context deadline exceeded" when -fuzztime runs out while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27; seen on a loaded 2-core machine).
# A finding always writes its input under testdata/fuzz and fails; that
# race alone is reported and not counted. -fuzzminimizetime 1x: the engine
# minimizes every new interesting input for that budget, and the Parquet
# targets' inputs are kilobytes, so with seconds of minimizing a short run
# executed a few dozen inputs (0 execs/s for most of it) instead of
# thousands a second.
FUZZ_TARGETS := decode:FuzzParquet:15s decode:FuzzCSV:8s decode:FuzzJSON:8s decode:FuzzJSONValid:5s \
	decode:FuzzScanners:5s flatparquet:FuzzColumnReader:8s
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
		echo "fuzz $$name ($$pkg) for $$budget"; \
		rc=0; $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $$budget -fuzzminimizetime 1x ./internal/$$pkg >"$$log" 2>&1 || rc=$$?; \
		cat "$$log"; \
		if [ $$rc -ne 0 ]; then \
			if grep -q 'context deadline exceeded' "$$log" && ! grep -qE 'Failing input written|panic:' "$$log"; then \
				echo "fuzz $$name: ended by the fuzzing engine's deadline race (go.dev/issue/75804), no failing input: not a finding"; \
			else exit $$rc; fi; \
		fi; \
	done

# Decoder benchmarks with the stock arrow-go readers as baselines in the same
# run (one core, 6 repetitions), a summary table, and the raw go test output
# in bench/out/<commit>.txt for benchstat across commits. See bench/run.sh.
.PHONY: bench
bench: tools
	test -x $(BIN)/benchstat || GOBIN=$(BIN) $(GO) install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
	GO=$(GO) bench/run.sh

# DuckDB and `s3load run` on the same generated files, side by side (issue
# 12): CSV, gzip'd CSV, JSON lines, Parquet to convert and 10,000 small CSV
# files, one core then all cores, alternating pairs; prints a markdown table
# of median ratios with their spread, output sizes and peak RSS. DuckDB
# needs cgo, so the harness is its own module (bench/duckdb) and not part of
# `make test` or `make lint` (its first build downloads DuckDB's library).
# Flags: BENCH_DUCKDB_FLAGS, e.g. '-rows 250000 -pairs 7 -cases csv,small -cores 1';
# bin/bench-duckdb -h lists them; '-cases reuse' (not a default) measures a
# second load after 1% of 10,000 small files changed. The data lives in a
# temporary directory.
.PHONY: bench-duckdb
bench-duckdb: tools build
	cd bench/duckdb && CGO_ENABLED=1 $(GO) build -o $(BIN)/bench-duckdb .
	$(BIN)/bench-duckdb -s3load $(BIN)/s3load -versitygw $(VERSITYGW) $(BENCH_DUCKDB_FLAGS)

test-unit: lint
	$(GO) test -count=1 -short ./...

# The randomized soak (internal/soak): full loads one after another for 10
# minutes while workers, the coordinator and nats-server are SIGKILLed and
# started again and the S3 endpoint goes down or throttles; after every
# load each source file must be in its table exactly once. The seed is
# printed; SEED=<n> replays its data set and fault schedule. make test runs
# a 2-minute soak.
soak: tools
	$(GO) test -count=1 -timeout 30m -run TestSoak -v ./internal/soak -soak.duration=10m $(if $(SEED),-soak.seed=$(SEED))

# Container images, all FROM scratch with static binaries built here (no
# image is pulled): s3load, nats-server (the version in go.mod) and
# versitygw. Build contexts go to deploy/build/, which is not committed.
# The tags are written to .env, which docker compose reads, so that
# `docker compose up` uses them instead of the public images.
IMAGE_TAG ?= dev
S3LOAD_IMAGE ?= localhost/s3load:$(IMAGE_TAG)
NATS_IMAGE ?= localhost/s3load-nats:$(patsubst v%,%,$(NATS_VERSION))
VERSITYGW_IMAGE ?= localhost/s3load-versitygw:$(VERSITYGW_VERSION)
FAULTPROXY_IMAGE ?= localhost/s3load-faultproxy:$(IMAGE_TAG)
IMAGES_BUILD := $(CURDIR)/deploy/build
STATIC_GO := $(GO) build -ldflags '-s -w'
# The legacy builder is the one a Docker Engine without buildx has; -q keeps
# the log to the image ID.
DOCKER_BUILD := DOCKER_BUILDKIT=0 docker build -q

images: tools
	rm -rf $(IMAGES_BUILD)/s3load $(IMAGES_BUILD)/nats $(IMAGES_BUILD)/versitygw
	mkdir -p $(IMAGES_BUILD)/s3load/rootfs/tmp $(IMAGES_BUILD)/s3load/data/out \
		$(IMAGES_BUILD)/nats $(IMAGES_BUILD)/versitygw/rootfs/tmp $(IMAGES_BUILD)/versitygw/state/data $(IMAGES_BUILD)/versitygw/state/meta
	chmod 1777 $(IMAGES_BUILD)/s3load/rootfs/tmp $(IMAGES_BUILD)/versitygw/rootfs/tmp
	$(GO) build \
		-ldflags "-s -w -X github.com/s3load/s3load/internal/cli.Version=$$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-o $(IMAGES_BUILD)/s3load/s3load ./cmd/s3load
	cp /etc/ssl/certs/ca-certificates.crt $(IMAGES_BUILD)/s3load/
	$(STATIC_GO) -o $(IMAGES_BUILD)/nats/nats-server github.com/nats-io/nats-server/v2
	cp deploy/nats/nats-server.conf $(IMAGES_BUILD)/nats/
	cp $(VERSITYGW) $(IMAGES_BUILD)/versitygw/
	$(DOCKER_BUILD) -t $(S3LOAD_IMAGE) -f deploy/s3load.Dockerfile $(IMAGES_BUILD)/s3load
	$(DOCKER_BUILD) -t $(NATS_IMAGE) -f deploy/nats.Dockerfile $(IMAGES_BUILD)/nats
	$(DOCKER_BUILD) -t $(VERSITYGW_IMAGE) -f deploy/versitygw.Dockerfile $(IMAGES_BUILD)/versitygw
	printf '%s\n' '# written by make images: the locally built images for docker compose' \
		'S3LOAD_IMAGE=$(S3LOAD_IMAGE)' 'NATS_IMAGE=$(NATS_IMAGE)' 'VERSITYGW_IMAGE=$(VERSITYGW_IMAGE)' \
		> $(IMAGES_BUILD)/images.env
	@if [ ! -e .env ] || head -1 .env | grep -q '^# written by make images'; then \
		cp $(IMAGES_BUILD)/images.env .env; echo "images: tags written to .env for docker compose"; \
	else echo "images: .env is yours, left alone; the tags are in $(IMAGES_BUILD)/images.env"; fi

# The end-to-end tests' own image: the fault-injecting S3 proxy.
e2e-images:
	rm -rf $(IMAGES_BUILD)/faultproxy && mkdir -p $(IMAGES_BUILD)/faultproxy
	$(STATIC_GO) -o $(IMAGES_BUILD)/faultproxy/faultproxy ./e2e/faultproxy
	$(DOCKER_BUILD) -t $(FAULTPROXY_IMAGE) -f e2e/faultproxy/Dockerfile $(IMAGES_BUILD)/faultproxy
	echo 'FAULTPROXY_IMAGE=$(FAULTPROXY_IMAGE)' > $(IMAGES_BUILD)/faultproxy.env

# End-to-end tests: compose-like deployments in containers under faults
# (testcontainers-go). They build the images once (make images e2e-images)
# and fail, not skip, without a Docker engine.
test-e2e:
	TESTCONTAINERS_RYUK_DISABLED=true $(GO) test -count=1 -tags e2e -timeout 14m -v ./e2e/

clean:
	rm -rf $(BIN) demo-out $(IMAGES_BUILD)
