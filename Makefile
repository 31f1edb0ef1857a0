# s3load: the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := bash
GO ?= go
BIN := $(CURDIR)/bin
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(BIN)/versitygw
export S3LOAD_VERSITYGW := $(VERSITYGW)

.PHONY: all build demo test test-unit test-integration lint tools clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/s3load ./cmd/s3load

# The S3 server the tests and the demo run against, built from source
# through the Go module proxy (no image or binary download).
tools: $(VERSITYGW)
$(VERSITYGW):
	GOBIN=$(BIN) CGO_ENABLED=0 $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

# Starts versitygw with a generated demo bucket, runs a full load with an
# embedded NATS server and local workers, and prints the report.
demo: tools
	$(GO) run ./cmd/s3load-demo --versitygw $(VERSITYGW) --out $(CURDIR)/demo-out

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The whole suite, against real servers (versitygw and nats-server).
test: tools lint
	$(GO) test -count=1 -timeout 18m ./...

test-unit: lint
	$(GO) test -count=1 -short ./...

clean:
	rm -rf $(BIN) demo-out
