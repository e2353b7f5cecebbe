# tenantpulse: build, run, test.
#
#   make build   bin/tenantpulse, with the version from git describe and the dashboard's uPlot
#   make web     npm ci in web/ and copy uPlot into internal/dashboard/assets/vendor (go:embed)
#   make demo    build, then run tenantpulse demo in the foreground (./data): server, simulator, model, dashboard
#   make test    deps, a check that nothing reaches outside the repository, gofmt, go vet,
#                go test (-race for ./internal/... ./cmd/...)
#   make deps    install what the tests need when it is missing
#   make fuzz    run every Fuzz target for FUZZTIME (default 30s) each
#   make bench   tenantpulse bench kinesis and bench events against a fresh server
#   make mutate  apply each mutation of test/mutate to a copy of the tree; fail if a test misses one

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
FUZZTIME ?= 30s
BENCHFLAGS ?=
EVENTSFLAGS ?=
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# sudo only when not root (CI and these machines run as root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JSDIR := test/js
JSSTAMP := $(JSDIR)/node_modules/.tenantpulse-deps
WEBSTAMP := web/node_modules/.tenantpulse-deps
VENDOR := internal/dashboard/assets/vendor

.PHONY: build demo test deps fuzz bench web mutate

build: web
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/tenantpulse ./cmd/tenantpulse

demo: build
	./bin/tenantpulse demo

# The black-box tests in ./test run with -count=1: the e2e tests build and
# run the binary from source, which go test's result cache does not track.
test: deps web
	@echo '== the repository stands alone (nothing reaches outside it)'
	$(GO) test -count=1 ./test/repo
	@echo '== gofmt -l'
	@out=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	if [ -n "$$out" ]; then echo "gofmt -l lists files that need gofmt -w:"; echo "$$out"; exit 1; fi
	@echo '== go vet ./...'
	$(GO) vet ./...
	@echo '== go test -race ./internal/... ./cmd/...'
	$(GO) test -race -timeout 12m ./internal/... ./cmd/...
	@echo '== go test -count=1 ./test/...'
	$(GO) test -count=1 -timeout 20m ./test/...

# web installs uPlot from npm (web/package-lock.json) when node_modules is
# missing or stale, and copies its dist files where go:embed finds them.
# go build and go vet work without it: the dashboard then says its charts
# are unavailable.
web:
	@want=$$(cd web && sha256sum package.json package-lock.json); \
	if [ ! -d web/node_modules ] || [ "$$(cat $(WEBSTAMP) 2>/dev/null)" != "$$want" ]; then \
		echo '== npm ci in web'; \
		(cd web && npm ci --no-audit --no-fund); \
		echo "$$want" > $(WEBSTAMP); \
	fi
	@cmp -s web/node_modules/uplot/dist/uPlot.iife.min.js $(VENDOR)/uPlot.iife.min.js && \
		cmp -s web/node_modules/uplot/dist/uPlot.min.css $(VENDOR)/uPlot.min.css || \
		cp web/node_modules/uplot/dist/uPlot.iife.min.js web/node_modules/uplot/dist/uPlot.min.css $(VENDOR)/

# deps installs Debian's awscli, python3-boto3 and chromium (for the
# dashboard's browser tests) when /usr/bin/aws, /usr/bin/chromium or
# boto3 for /usr/bin/python3 is missing, and runs npm ci in test/js when
# node_modules is missing or older than package.json/package-lock.json (a
# stamp file records the checksums it was installed from).
deps:
	@if [ ! -x /usr/bin/aws ] || ! /usr/bin/python3 -c 'import boto3' 2>/dev/null || [ ! -x /usr/bin/chromium ]; then \
		echo '== apt-get install awscli python3-boto3 chromium'; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends awscli python3-boto3 chromium fonts-dejavu-core; \
	fi
	@want=$$(cd $(JSDIR) && sha256sum package.json package-lock.json); \
	if [ ! -d $(JSDIR)/node_modules ] || [ "$$(cat $(JSSTAMP) 2>/dev/null)" != "$$want" ]; then \
		echo '== npm ci in $(JSDIR)'; \
		(cd $(JSDIR) && npm ci --no-audit --no-fund); \
		echo "$$want" > $(JSSTAMP); \
	fi

# fuzz lists the Fuzz targets of every package and fuzzes each in turn.
fuzz:
	@list=$$(mktemp); trap 'rm -f "$$list"' EXIT; \
	$(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { f[n++] = $$1 } /^ok/ { for (i = 0; i < n; i++) print $$2, f[i]; n = 0 }' > "$$list"; \
	if [ ! -s "$$list" ]; then echo 'no Fuzz targets found'; exit 1; fi; \
	while read -r pkg target; do \
		echo "== $$pkg $$target ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg" < /dev/null; \
	done < "$$list"

# bench starts a server on a free port with a throwaway data directory,
# runs tenantpulse bench kinesis (extra flags in BENCHFLAGS, e.g.
# BENCHFLAGS='--records 200000') and tenantpulse bench events (extra flags
# in EVENTSFLAGS) against it, and stops it.
bench: build
	@dir=$$(mktemp -d); \
	./bin/tenantpulse serve --listen 127.0.0.1:0 --data "$$dir/data" 2> "$$dir/server.log" & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf "$$dir"' EXIT; \
	addr=; for i in $$(seq 300); do \
		addr=$$(sed -n 's/.*listening on \([^ "]*\).*/\1/p' "$$dir/server.log" | head -1); \
		[ -n "$$addr" ] && break; \
		kill -0 $$pid 2>/dev/null || { cat "$$dir/server.log"; exit 1; }; \
		sleep 0.1; \
	done; \
	[ -n "$$addr" ] || { echo 'the server did not start'; cat "$$dir/server.log"; exit 1; }; \
	echo "== tenantpulse bench kinesis --endpoint http://$$addr"; \
	./bin/tenantpulse bench kinesis --endpoint "http://$$addr" --server-pid $$pid $(BENCHFLAGS); \
	echo "== tenantpulse bench events --endpoint http://$$addr"; \
	./bin/tenantpulse bench events --endpoint "http://$$addr" --server-pid $$pid $(EVENTSFLAGS)

# mutate applies each small bug listed in test/mutate/mutations.go to a
# temporary copy of the tree (never this one), runs the tests that should
# catch it, and fails if one survives (docs/testing.md). Not part of test:
# it runs the listed packages' tests twice per mutation (a few minutes).
mutate:
	$(GO) run ./test/mutate
