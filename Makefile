# podium: the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/podium
GOFILES := $(shell find . -name '*.go' -not -path './web/*' 2>/dev/null)

.PHONY: demo serve build ui deps test test-go test-under-load test-browser lint bench clean

demo: build ## run a node with a live demo space, then open the printed URL
	./$(BIN) demo

serve: build ## run a node on the embedded defaults
	./$(BIN) serve

build: ui $(BIN)

$(BIN): $(GOFILES) go.mod go.sum internal/web/dist/.built
	$(GO) build -o $(BIN) ./cmd/podium

ui: internal/web/dist/.built

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

internal/web/dist/.built: web/node_modules/.package-lock.json $(shell find web/src web/pages web/build.mjs -type f 2>/dev/null)
	cd web && npm run build
	touch $@

deps: ## install the Debian packages the tests use (chromium, firefox-esr, ffmpeg, nginx, sox, espeak-ng, stress-ng)
	./scripts/install-deps.sh

test: deps build test-go test-browser ## everything CI runs

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

test-go: build lint
	# -p 1: packages one at a time. Their end-to-end tests (real nodes,
	# nginx, browsers' worth of listeners, floods) measure behaviour in
	# time, and on a 2-core machine two of them at once starve each other.
	PODIUM_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -p 1 -timeout 15m ./...

lint: ## go vet and staticcheck (pinned), part of make test
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test-under-load: build ## the Go suite while stress-ng keeps every core busy
	./scripts/test-under-load.sh

test-browser: build
	cd web && PODIUM_BIN=$(CURDIR)/$(BIN) npm run test:browser

bench: ## the benchmarks behind docs/BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/mix/ ./internal/hls/

clean:
	rm -rf bin internal/web/dist/assets internal/web/dist/*.html internal/web/dist/.built
