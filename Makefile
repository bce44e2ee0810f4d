# riacho — build, test and run the suite.
# `make demo` runs everything on embedded defaults; `make test` runs every module's tests.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO        ?= go
BIN       := $(CURDIR)/bin
# Every Go module that has Go code (modules reserved for later services have none yet).
MODULES   := $(shell for d in libs proto deploy services/*; do \
		[ -f $$d/go.mod ] && [ -n "$$(find $$d -name '*.go' -print -quit)" ] && echo $$d; done)
TESTFLAGS ?= -race -count=1 -timeout=15m
DATA_DIR  ?= $(CURDIR)/.demo-data

PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.0
GRPC_GATEWAY_VERSION       := v2.33.0
GOLANGCI_LINT_VERSION      := v2.15.0

.PHONY: all build test test-short e2e demo lint vet fmt-check generate generate-check bench fuzz tidy clean setup help

all: build

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: ## prepare PostgreSQL (wal_level=logical) and the test tools (kcat)
	@scripts/pg-setup.sh
	@scripts/ensure-tools.sh kcat

build: ## build every service binary into bin/
	@mkdir -p $(BIN)
	@for m in $(filter services/%,$(MODULES)); do \
		if [ -d $$m/cmd ]; then (cd $$m && $(GO) build -o $(BIN)/ ./cmd/...); fi; \
	done

# The devstack packages each start whole stacks on ports picked free beforehand; -p=1 keeps
# two packages from picking the same port at once.
test: setup vet ## run every module's tests (race detector, real Kafka-protocol broker and PostgreSQL)
	@for m in $(MODULES); do \
		echo "== go test $$m"; \
		p=; [ $$m = services/devstack ] && p=-p=1; \
		(cd $$m && $(GO) test $(TESTFLAGS) $$p ./...) || exit 1; \
	done

test-short: setup ## the quick subset (-short) of every module's tests
	@for m in $(MODULES); do (cd $$m && $(GO) test -short -count=1 ./...) || exit 1; done

vet: ## go vet every module and check gofmt
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

demo: ## run the whole suite in one process with demo traffic (Ctrl-C stops it)
	@scripts/pg-setup.sh || echo "demo: local PostgreSQL not ready; the CDC part of the demo is skipped" >&2
	@mkdir -p $(BIN)
	@cd services/devstack && $(GO) build -o $(BIN)/devstack ./cmd/devstack
	@$(BIN)/devstack --data-dir $(DATA_DIR) --demo-traffic

$(BIN)/protoc-gen-go:
	@GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(BIN)/protoc-gen-go-grpc:
	@GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

$(BIN)/protoc-gen-grpc-gateway:
	@GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)

generate: $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/protoc-gen-grpc-gateway ## regenerate protobuf code
	@scripts/ensure-tools.sh protoc
	@cd proto && PATH=$(BIN):$$PATH protoc -I . \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		$$(find riacho -name '*.proto' | sort)
	@cd proto && for y in $$(find riacho -name '*_gateway.yaml' | sort); do \
		PATH=$(BIN):$$PATH protoc -I . --grpc-gateway_out=. --grpc-gateway_opt=paths=source_relative \
			--grpc-gateway_opt=grpc_api_configuration=$$y $$(dirname $$y)/*.proto; done

generate-check: generate ## fail when committed generated code differs from the .proto files
	@if [ -n "$$(git status --porcelain -- proto)" ]; then \
		echo "generated code is out of date; run make generate and commit:"; git status --porcelain -- proto; exit 1; fi

$(BIN)/golangci-lint:
	@GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

lint: $(BIN)/golangci-lint ## run golangci-lint over every module
	@for m in $(MODULES); do echo "== lint $$m"; (cd $$m && $(BIN)/golangci-lint run --config $(CURDIR)/.golangci.yml ./...) || exit 1; done

bench: setup ## run the Go benchmarks and the intake load benchmark
	@for m in $(MODULES); do (cd $$m && $(GO) test -run='^$$' -bench=. -benchmem ./...) || exit 1; done
	@scripts/bench/intake.sh

e2e: setup ## the full end-to-end run (all sources, exact counts) and the full chaos run (every service killed twice)
	@cd services/devstack && RIACHO_E2E_FULL=1 $(GO) test -race -count=1 -timeout=15m -run 'TestEndToEnd' ./internal/e2e/
	@cd services/devstack && RIACHO_CHAOS_FULL=1 $(GO) test -race -count=1 -timeout=30m ./internal/chaos/

fuzz: ## run every fuzz target for FUZZTIME (default 10s)
	@scripts/fuzz.sh $${FUZZTIME:-10s}

tidy: ## go mod tidy every module
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy); done

clean: ## remove build output and demo data, and drop the demo's replication slot (it holds WAL)
	rm -rf $(BIN) $(DATA_DIR)
	@psql -h 127.0.0.1 -U postgres -d riacho -Atqc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'riacho_devstack_riacho' AND NOT active" >/dev/null 2>&1 || true
