# facereg — see README.md. `make run` and `make test` are the two commands users need.
SHELL := /bin/bash
GO ?= go
CACHE ?= $(CURDIR)/.cache
export FACEREG_CACHE := $(CACHE)
export CGO_ENABLED := 1
DATA ?= $(CURDIR)/data
ADDR ?= 127.0.0.1:8080
FUZZTIME ?= 10s
STAMP := $(CACHE)/.setup-ok

.PHONY: all setup build test test-short bench run fuzz vet fmt clean

all: build

# Fetch ONNX Runtime and the default model pack (verified by sha256) into $(CACHE).
setup: $(STAMP)
$(STAMP): scripts/setup.sh
	@bash scripts/setup.sh
	@touch $@

build: setup
	$(GO) build -trimpath -o bin/facereg ./cmd/facereg

# The whole test suite: real models, real images from ../shared/faces, real SQLite.
test: setup
	@command -v gcc >/dev/null || { echo "gcc is needed for cgo (apt-get install gcc)"; exit 1; }
	gofmt_out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$gofmt_out" ]; then echo "gofmt needed: $$gofmt_out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 45m ./...
	$(MAKE) --no-print-directory fuzz

# Each fuzz target for a bounded time (FUZZTIME).
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/... | tee bench.txt

# Build, set up and serve on the embedded default (SQLite in $(DATA)).
run: build
	./bin/facereg serve --addr $(ADDR) --data $(DATA)

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
