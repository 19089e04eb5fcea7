# kaspi-amocrm build. The README names two commands: `make demo` and
# `make test`. `make build` writes the hosting tree (what the ZIP holds).

GO      ?= go
GOOS    ?= linux
GOARCH  ?= amd64
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILD   ?= build

MODULE  := kaspi-amocrm
LDFLAGS := -s -w -X $(MODULE)/pkg/app.Version=$(VERSION)
GOBUILD := CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build -trimpath -ldflags='$(LDFLAGS)'

# Every folder with a main.go is a program: cgi-bin/x → build/cgi-bin/x.cgi,
# bin/x → build/bin/x.
CGI_PROGS := $(patsubst cgi-bin/%/main.go,%,$(wildcard cgi-bin/*/main.go))
BIN_PROGS := $(patsubst bin/%/main.go,%,$(wildcard bin/*/main.go))

.PHONY: all build demo test test-note vet fmt-check dist clean help version race staticcheck filesize

all: build

help:
	@echo "make demo       run the whole pipeline against the sandbox"
	@echo "make test       go test ./... (MariaDB/PostgreSQL too when KA_TEST_*_DSN are set)"
	@echo "make build      hosting tree in $(BUILD)/ (GOARCH=386 for 32-bit hosts)"
	@echo "make dist       the ZIPs for shop owners (linux-amd64, linux-386) in $(DIST)/"
	@echo "make vet        go vet ./..."
	@echo "make fmt-check  fail on files gofmt would change"
	@echo "make race       the concurrent packages' tests under the race detector"
	@echo "make staticcheck staticcheck $(STATICCHECK_VERSION) (installed into $(TOOLS)/ on first use)"
	@echo "make filesize   fail on a product Go file over 600 lines (scripts/filesize)"

# The version stamped into the binaries and the ZIP names: the tag when
# HEAD is tagged (v1.2.0), else tag-commits-hash (v1.2.0-3-gabc1234), else
# the commit hash; -dirty when the tree has changes.
version:
	@echo $(VERSION)

# The hosting tree of DESIGN.md §2. Runtime folders get a deny-all
# .htaccess; the root's .htaccess opens only cgi-bin/.
build:
	@rm -rf $(BUILD)
	@mkdir -p $(BUILD)/cgi-bin $(BUILD)/bin $(BUILD)/storage $(BUILD)/logs
	@set -e; for p in $(CGI_PROGS); do \
		echo "build $(BUILD)/cgi-bin/$$p.cgi"; \
		$(GOBUILD) -o $(BUILD)/cgi-bin/$$p.cgi ./cgi-bin/$$p; \
	done
	@set -e; for p in $(BIN_PROGS); do \
		echo "build $(BUILD)/bin/$$p"; \
		$(GOBUILD) -o $(BUILD)/bin/$$p ./bin/$$p; \
	done
	@cp .env.example $(BUILD)/.env.example
	@if [ -f INSTALL.md ]; then cp INSTALL.md $(BUILD)/INSTALL.md; fi
	@if [ -f scripts/hosting/.htaccess ]; then cp scripts/hosting/.htaccess $(BUILD)/.htaccess; fi
	@if [ -f scripts/hosting/cgi-bin/.htaccess ]; then cp scripts/hosting/cgi-bin/.htaccess $(BUILD)/cgi-bin/.htaccess; fi
	@if [ -f scripts/hosting/deny/.htaccess ]; then \
		for d in bin storage logs; do cp scripts/hosting/deny/.htaccess $(BUILD)/$$d/.htaccess; done; \
	fi
	@echo "$(VERSION) linux/$(GOARCH)" > $(BUILD)/VERSION
	@echo "built $(VERSION) for $(GOOS)/$(GOARCH) in $(BUILD)/"

# The whole pipeline through the real binaries against bin/sandbox, in a
# temporary install with SQLite (scripts/demo; DEMOFLAGS=-keep keeps it).
demo:
	@$(GO) run ./scripts/demo $(DEMOFLAGS)

# The README's test command. Without KA_TEST_MYSQL_DSN / KA_TEST_PGSQL_DSN
# only SQLite runs; .ci/run sets both.
test: test-note
	$(GO) test $(TESTFLAGS) ./...

# One line when the MariaDB or PostgreSQL tests will be skipped, saying how
# to run them.
test-note:
	@m=""; [ -n "$$KA_TEST_MYSQL_DSN" ] || m="MariaDB (KA_TEST_MYSQL_DSN)"; \
	[ -n "$$KA_TEST_PGSQL_DSN" ] || m="$${m:+$$m and }PostgreSQL (KA_TEST_PGSQL_DSN)"; \
	[ -z "$$m" ] || echo "make test: the $$m store tests are skipped (SQLite runs); to run them export KA_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' and KA_TEST_PGSQL_DSN='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' (README, Two commands)"

vet:
	$(GO) vet ./...

# The packages that run goroutines of their own (the client's limiter and
# token refresh, the run lock, the scheduler, the store's locks, the
# syncer's workers, the web backends), under the race detector; the DSNs
# apply as in make test.
RACE_PKGS ?= ./pkg/amocrm/... ./pkg/ratelimit/... ./pkg/runlock/... ./pkg/scheduler/... \
	./pkg/store/... ./pkg/syncer/... ./pkg/web/...
race:
	$(GO) test -race $(TESTFLAGS) $(RACE_PKGS)

# staticcheck at a pinned version, built once into $(TOOLS)/ (not a
# dependency of the module: go.mod stays as the design card has it).
TOOLS               ?= .tools
STATICCHECK_VERSION ?= v0.8.2
staticcheck:
	@[ -x $(TOOLS)/staticcheck ] && $(TOOLS)/staticcheck -version | grep -q "$(STATICCHECK_VERSION)" || \
		GOBIN=$(CURDIR)/$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(TOOLS)/staticcheck ./...

# No product Go file (tests and pkg/sandbox aside) over 600 lines unless
# its first comment says why.
filesize:
	@$(GO) run ./scripts/filesize

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './$(BUILD)/*' -not -path '*/testdata/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The release: one ZIP per architecture of the same hosting tree, unpacked
# into the site's folder as is (no top folder). linux-amd64 is the default;
# linux-386 starts under a virtual-memory limit (RLimitMEM, CloudLinux LVE,
# ulimit -v) where amd64 cannot: the Go runtime reserves ~720 MB of
# address space at start on amd64, far less on 386. bin/sandbox stays out:
# it serves fake APIs for tries and the demo, has no place on a shop's host
# and would add a sixth of the archive. `zip` keeps the exec bits;
# scripts/zipdir does the same where zip is missing.
DIST       ?= dist
DIST_ARCH  ?= amd64 386
DIST_BINS  := $(filter-out sandbox,$(BIN_PROGS))

dist:
	@rm -rf $(DIST)
	@mkdir -p $(DIST)
	@set -e; for a in $(DIST_ARCH); do \
		name=kaspi-amocrm-$(VERSION)-linux-$$a; tree=$(DIST)/tree-$$a; zipfile=$$(cd $(DIST) && pwd)/$$name.zip; \
		$(MAKE) -s --no-print-directory build GOARCH=$$a BUILD=$$tree BIN_PROGS="$(DIST_BINS)" VERSION=$(VERSION) >/dev/null; \
		find $$tree -type d -exec chmod 755 {} +; find $$tree -type f -exec chmod 644 {} +; \
		chmod 755 $$tree/cgi-bin/*.cgi $$tree/bin/*; \
		if command -v zip >/dev/null; then \
			(cd $$tree && zip -q -r -X -9 $$zipfile .); \
		else \
			$(GO) run ./scripts/zipdir -o $$zipfile $$tree; \
		fi; \
		echo "$(DIST)/$$name.zip  $$(wc -c < $$zipfile) bytes"; \
		for f in $$tree/cgi-bin/*.cgi $$tree/bin/*; do \
			printf '  %-28s %9s bytes\n' "$${f#$$tree/}" "$$(wc -c < $$f)"; \
		done; \
	done

clean:
	rm -rf $(BUILD) $(DIST)

# The numbers of the design's proof section, printed by scripts/bench:
# amoCRM and Kaspi requests per order, time to drain a backlog at amoCRM's
# 7 requests/s, peak memory of a run, reconcile cost, cron.cgi latency.
# The full form takes minutes; BENCHFLAGS=-short runs in seconds (CI),
# -driver mysql|pgsql uses KA_TEST_MYSQL_DSN / KA_TEST_PGSQL_DSN.
.PHONY: bench chaos
bench:
	$(GO) run ./scripts/bench $(BENCHFLAGS)

# kill -9, ghost creates, overlapping runs and 429/5xx storms against the
# built fetch_new and reconcile; fails on any duplicate or missing deal.
# CHAOSFLAGS=-short is the CI form (about two minutes).
chaos:
	$(GO) run ./scripts/chaos $(CHAOSFLAGS)
