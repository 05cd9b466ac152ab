# Reclaim — the README's commands. Each target installs what it needs into the project's own
# folders (.venv for Python tools, tests/node/node_modules for the npm cross-check).

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CARGO ?= cargo
export AWS_REGION ?= us-east-1
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help demo test test-rust lint-template fmt-check bench fuzz build deploy venv node-deps browser-deps app clean

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: infra/requirements.txt
	@echo "==> installing moto, cfn-lint and the SAM CLI into $(VENV)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PIP) install --quiet --disable-pip-version-check -r infra/requirements.txt
	@touch $@

venv: $(VENV)/.installed ## Install the Python tools (moto, cfn-lint, sam) into .venv

tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	@echo "==> installing @shopify/shopify-api into tests/node"
	@npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: tests/node/node_modules/.installed ## Install the npm packages the tests use (Shopify's library, playwright-core)

app/node_modules/.installed: app/package.json app/package-lock.json
	@echo "==> installing the embedded app's packages (React, Polaris, uPlot, esbuild) into app"
	@npm ci --prefix app --no-audit --no-fund --loglevel=error
	@touch $@

app/dist/manifest.json: app/node_modules/.installed app/build.mjs $(wildcard app/src/*)
	@echo "==> bundling the embedded app (esbuild) into app/dist"
	@node app/build.mjs

app: app/dist/manifest.json ## Bundle the embedded app (app/dist, embedded into the admin-api function)

browser-deps: ## Install Debian's Chromium for the browser tests if it is missing
	@command -v chromium >/dev/null || { echo "==> installing chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: venv app ## Run the demo store through the whole recovery flow on the local stack
	$(CARGO) run --quiet -p reclaim-local --bin reclaim -- demo

test: venv node-deps browser-deps app fmt-check lint-template test-rust ## Every test: unit, property, emulator, cross-check, template lint

test-rust:
	$(CARGO) test --workspace --all-targets

fmt-check:
	$(CARGO) fmt --all -- --check

lint-template: venv ## cfn-lint and sam validate --lint on template.yaml
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml

fuzz: ## The fuzz targets (webhooks, settings, links, app proxy, session tokens) for a million cases each, in release mode
	RECLAIM_FUZZ_CASES=$${RECLAIM_FUZZ_CASES:-1000000} $(CARGO) test --release -p reclaim-core --features testing --test fuzz -- --nocapture

bench/lighthouse/node_modules/.installed: bench/lighthouse/package.json bench/lighthouse/package-lock.json
	@echo "==> installing Lighthouse into bench/lighthouse"
	@npm ci --prefix bench/lighthouse --no-audit --no-fund --loglevel=error
	@touch $@

bench: node-deps app browser-deps bench/lighthouse/node_modules/.installed ## Criterion benchmarks (hot path, decide, simulate), the hot path beside Node, reclaim simulate on 1,000,000 checkouts, cold start and RSS of the functions, the reply classifier on held-out replies, Lighthouse on each screen of the app
	$(CARGO) bench -p reclaim-core --features testing --bench hot_path
	$(CARGO) bench -p reclaim-core --features testing --bench vs_node -- --breakdown
	$(CARGO) run --quiet --profile cli -p reclaim-local --bin reclaim -- generate-checkouts --count 1000000 --out target/bench/carts.jsonl
	$(CARGO) run --quiet --profile cli -p reclaim-local --bin reclaim -- simulate --settings infra/bench/simulate-settings.json --checkouts target/bench/carts.jsonl
	$(CARGO) build --release -p reclaim-webhooks -p reclaim-links -p reclaim-admin-api -p reclaim-storefront-api -p reclaim-auth
	$(CARGO) run --quiet --profile cli -p reclaim-local --bin reclaim -- cold-start --dir $${CARGO_TARGET_DIR:-target}/release
	$(CARGO) run --quiet --profile cli -p reclaim-local --bin reclaim -- evaluate-classifier
	$(CARGO) run --quiet -p reclaim-local --bin reclaim -- lighthouse

$(VENV)/.build-tools: infra/requirements-build.txt $(VENV)/.installed
	@$(PIP) install --quiet --disable-pip-version-check -r infra/requirements-build.txt
	@touch $@

build: $(VENV)/.build-tools app ## Build deployable arm64 Lambda artefacts (sam build with cargo-lambda)
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build --beta-features --template template.yaml

deploy: build ## Deploy to your AWS account (asks for the parameters the first time)
	$(VENV)/bin/sam deploy --guided --config-file infra/samconfig.toml

clean:
	rm -rf target .aws-sam tests/node/node_modules app/node_modules app/dist bench/lighthouse/node_modules
