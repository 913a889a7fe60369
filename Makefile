# seatgraph's front door. On a fresh machine: `make run`, `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PORT ?= 8080
export TENANT ?= demo

# db.sh's failure must stop make: eval "$(…)" alone would swallow it.
DB_ENV = dbenv="$$(scripts/db.sh env)"; eval "$$dbenv"

.PHONY: run port-free test test-citus generate check-generated lint vet fmt db-start db-stop build e2e-deps e2e playground bench bench-check

## build: the binary, stamped with its commit (seatgraph version)
build:
	go build -buildvcs=auto -o bin/seatgraph .

## run: private database, migrations (once), demo data, server with playground, a token
run: port-free build
	@if [ -z "$${DATABASE_URL:-}" ]; then $(DB_ENV); fi; \
	export DEV_MODE=$${DEV_MODE:-true} PLAYGROUND_TENANT="$$TENANT"; \
	./bin/seatgraph migrate up; \
	./bin/seatgraph seed --tenant "$$TENANT"; \
	token=$$(./bin/seatgraph token --tenant "$$TENANT"); \
	host=$${HOST-127.0.0.1}; host=$${host:-localhost}; \
	printf '\n  seatgraph playground: http://%s:%s/  (its Headers tab holds a development token)\n' "$$host" "$$PORT"; \
	printf '  GraphQL endpoint:     http://%s:%s/query\n\n' "$$host" "$$PORT"; \
	printf '  Development token (tenant %s, every scope, valid 12 h), for curl and other clients:\n\n' "$$TENANT"; \
	printf '  {"Authorization": "Bearer %s"}\n\n' "$$token"; \
	MIGRATE_ON_START=false exec ./bin/seatgraph serve

# port-free stops make run before it builds, migrates or seeds anything
# when something already answers on the port.
port-free:
	@host=$${HOST-127.0.0.1}; host=$${host:-127.0.0.1}; \
	if (exec 3<>"/dev/tcp/$$host/$$PORT") 2>/dev/null; then \
	  echo "make run: port $$PORT on $$host is already in use (another make run?). Stop it, or choose another port: PORT=8081 make run" >&2; \
	  exit 1; \
	fi

## test: private database, a Chromium for the playground's browser test
## (installed first, in the open, when missing), then every test (generated
## code must be current), then the composition check and the gateway
## end-to-end tests
test: check-generated
	@unset SEATGRAPH_TEST_CITUS SEATGRAPH_CITUS_COORDINATOR_URL SEATGRAPH_CITUS_WORKER_URLS; \
	$(DB_ENV); chromium="$$(scripts/chromium.sh)"; export CHROMIUM_BIN="$$chromium"; \
	echo "make test: Chromium for the browser test: $$CHROMIUM_BIN"; \
	go vet ./...; go test -count=1 -p 4 ./...
	@e2e/run.sh

## test-citus: every Go test against a local Citus cluster (a coordinator and
## two workers; Citus built from source, see docs/scale-out.md), then the
## count of multi-shard statements the nodes logged during the run
test-citus:
	@scripts/citus/test.sh

## bench: the 1M-assignment benchmark (makes and keeps its own database,
## seatgraph_bench); see bench/README.md. BENCH_FLAGS passes flags.
bench:
	@$(DB_ENV); go run ./bench $(BENCH_FLAGS)

## bench-check: EXPLAIN every list query of the API at 1M; fail on a
## sequential scan or a sort over more than a page
bench-check:
	@$(DB_ENV); go run ./bench -check $(BENCH_FLAGS)

## e2e: seatgraph behind a real Apollo gateway (needs node >= 20 and npm)
e2e:
	@e2e/run.sh

## generate: regenerate the gqlgen code and the playground bundle
generate: playground
	go tool gqlgen generate
	go run ./scripts/listitems graph/generated.go

## playground: bundle GraphiQL from internal/playground/app/package-lock.json into internal/playground/dist
playground:
	scripts/playground.sh build

## check-generated: fail when the generated code or the playground bundle is stale,
## or when a generator fails (each command on its own, so that set -e sees it:
## in `a && b` a failing a would not stop the recipe)
check-generated:
	@scripts/playground.sh check
	@before=$$(cat graph/generated.go graph/federation.go graph/model/models_gen.go | sha256sum); \
	go tool gqlgen generate; \
	go run ./scripts/listitems graph/generated.go; \
	after=$$(cat graph/generated.go graph/federation.go graph/model/models_gen.go | sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated code was stale: run make generate and commit" >&2; exit 1; fi

## lint: gofmt, go vet and staticcheck (generated code excepted)
lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	@out=$$(go tool staticcheck ./... 2>&1 | grep -v '^graph/\(generated\|federation\)\.go:' || true); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

vet:
	go vet ./...

db-start:
	scripts/db.sh start

db-stop:
	scripts/db.sh stop
