# orgauth — run `make help` for the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Pinned tool versions.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Lambda functions: SAM logical id -> package under functions/.
FUNCTIONS := TokenFunction:token WellKnownFunction:wellknown ApplicationsFunction:applications AuthorizeFunction:authorize \
  CallbackFunction:callback ConsoleFunction:console
LOGICAL_IDS := $(foreach f,$(FUNCTIONS),$(word 1,$(subst :, ,$(f))))

# How sam build (BuildMethod: makefile) and `make build` compile a function.
GO_LAMBDA_BUILD := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w'
ARTIFACTS_DIR ?= $(CURDIR)/build

BIN := $(CURDIR)/.bin
APT := $(if $(filter 0,$(shell id -u)),apt-get,sudo apt-get)
NODE_STAMP := infra/node_modules/.installed
TOOLS := $(BIN)/kms-local $(BIN)/aws-lambda-rie

# The developer console (web/console), built by Vite into the directory that pkg/endpoints/console embeds. The build output
# is not committed; pkg/endpoints/console/dist/README.md is, so that go:embed always finds the directory.
CONSOLE_DIR := web/console
CONSOLE_STAMP := $(CONSOLE_DIR)/node_modules/.installed
CONSOLE_INDEX := pkg/endpoints/console/dist/app/index.html
CONSOLE_SOURCES := $(CONSOLE_DIR)/index.html $(CONSOLE_DIR)/vite.config.js $(wildcard $(CONSOLE_DIR)/src/*)

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- dependencies

$(NODE_STAMP): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_STAMP): $(CONSOLE_DIR)/package.json $(CONSOLE_DIR)/package-lock.json
	npm ci --prefix $(CONSOLE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_INDEX): $(CONSOLE_STAMP) $(CONSOLE_SOURCES)
	cd $(CONSOLE_DIR) && npx --no-install vite build --logLevel warn

.PHONY: console
console: $(CONSOLE_INDEX) ## Build the developer console (npm ci, vite build) into pkg/endpoints/console/dist/app.

$(BIN)/kms-local: infra/tools/go.mod infra/tools/go.sum $(wildcard infra/tools/cmd/kms-local/*.go)
	cd infra/tools && go build -trimpath -o $@ ./cmd/kms-local

$(BIN)/aws-lambda-rie: infra/tools/go.mod infra/tools/go.sum
	cd infra/tools && go build -trimpath -o $@ github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

# What make run needs: Go and Node.js, nothing else (dynalite from npm, local-kms built from Go).
.PHONY: deps
deps: $(NODE_STAMP) $(TOOLS) ## Install what make run needs: the pinned emulators and npm packages (idempotent).
	go mod download

# What make test needs besides: moto (the second DynamoDB emulator), cfn-lint (SAM template validation), chromium
# (the browser test of the login page drives Debian's chromium through npm playwright-core).
MOTO_PIN := moto[server]==5.2.1
CFN_LINT_PIN := cfn-lint==1.51.0 aws-sam-translator==1.110.0

# Where moto_server and cfn-lint are not on PATH, they are installed, pinned, into a project-local virtual environment,
# which every recipe below finds first on PATH.
VENV := $(CURDIR)/.venv
VENV_STAMP := $(VENV)/.installed-moto-5.2.1-cfn-lint-1.51.0
export PATH := $(VENV)/bin:$(PATH)

$(VENV_STAMP):
	@command -v python3 >/dev/null || { echo "installing python3 and venv (apt)"; $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq python3 python3-venv; }
	python3 -m venv $(VENV) || { $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check '$(MOTO_PIN)' $(CFN_LINT_PIN) || \
	  { rm -rf $(VENV); echo "make test: could not install $(MOTO_PIN) $(CFN_LINT_PIN) into $(VENV) (is PyPI reachable?)" >&2; exit 1; }
	touch $@

.PHONY: python-tools
python-tools: ## moto_server and cfn-lint: those on PATH, else pinned into .venv.
	@if command -v moto_server >/dev/null && command -v cfn-lint >/dev/null; then :; else $(MAKE) $(VENV_STAMP); fi

.PHONY: test-deps
test-deps: deps python-tools ## Install what make test needs besides: moto and cfn-lint (pinned, into .venv unless on PATH), chromium (apt).
	@command -v chromium >/dev/null || { echo "installing chromium (apt)"; $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq chromium; }

# ---------------------------------------------------------------------- build

.PHONY: build
build: ## Build one bootstrap per function (linux/arm64) into build/<LogicalId>/.
	@for id in $(LOGICAL_IDS); do \
	  $(MAKE) build-$$id ARTIFACTS_DIR=$(CURDIR)/build/$$id; \
	  ls -l build/$$id/bootstrap; \
	done

# One target per function, as `sam build` calls them (BuildMethod: makefile).
define lambda_target
.PHONY: build-$(1)
build-$(1):
	$$(GO_LAMBDA_BUILD) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call lambda_target,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))
# The console function embeds the built console.
build-ConsoleFunction: console

# ------------------------------------------------------------------------ run

.PHONY: run
run: deps console local-bin ## Start the emulators, the API and the console on http://127.0.0.1:3000 with a demo (PORT overrides).
	$(BIN)/orgauth-local

.PHONY: local-bin
local-bin:
	go build -o $(BIN)/orgauth-local ./cmd/orgauth-local

# sam local: the functions in Lambda containers on their own port, against the emulators of make emulators.
SAM_PORT ?= 3001
SAM_ENV := $(or $(ORGAUTH_DATA_DIR),.orgauth)/sam-local-env.json

.PHONY: emulators
emulators: deps local-bin ## What make run starts but the API: emulators, table, keys, demo; writes .orgauth/sam-local-env.json.
	SAM_PORT=$(SAM_PORT) $(BIN)/orgauth-local -emulators

.PHONY: sam-local
sam-local: ## sam build, then sam local start-api on http://127.0.0.1:3001 (SAM_PORT) against make emulators.
	@command -v sam >/dev/null 2>&1 || { echo "make sam-local: the AWS SAM CLI is missing: install it (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html)" >&2; exit 1; }
	@command -v docker >/dev/null 2>&1 || { echo "make sam-local: Docker is missing: install Docker Engine (https://docs.docker.com/engine/install/), which sam local runs the functions in" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make sam-local: the Docker daemon does not answer: start it (sudo systemctl start docker) or join the docker group" >&2; exit 1; }
	@test -f $(SAM_ENV) || { echo "make sam-local: $(SAM_ENV) is missing: run make emulators in another terminal first" >&2; exit 1; }
	@grep -q '"ISSUER": "http://127.0.0.1:$(SAM_PORT)"' $(SAM_ENV) || { echo "make sam-local: $(SAM_ENV) is for another port: run make emulators SAM_PORT=$(SAM_PORT)" >&2; exit 1; }
	sam build
	sam local start-api --host 127.0.0.1 --port $(SAM_PORT) --env-vars $(SAM_ENV) --docker-network host --parameter-overrides Stage=dev

# ----------------------------------------------------------------------- test

export ORGAUTH_REQUIRE_EMULATORS := 1

EMULATOR_PKGS := ./pkg/storage/dynamo/... ./pkg/keys/kmskeys/... ./pkg/platform/secretbox/...
SYSTEM_PKGS := ./test/...

# Go native fuzz targets, package:Target. Their committed seed corpus (f.Add and testdata/fuzz) runs in every plain go test;
# make test also fuzzes each for FUZZTIME_TEST, make fuzz for FUZZTIME.
FUZZ_TARGETS := ./pkg/oauth:FuzzParseForm ./pkg/oauth:FuzzFormParamsIsParseQuery ./pkg/oauth:FuzzClientAuthentication ./pkg/jwt:FuzzVerifyAccessToken ./pkg/jwt:FuzzAccessWire \
  ./pkg/domain:FuzzRedirectURI ./pkg/domain:FuzzOrigin \
  ./pkg/endpoints/applications:FuzzDecodeApplication
FUZZTIME ?= 60s
FUZZTIME_TEST ?= 3s

.PHONY: fuzz
fuzz: ## Fuzz each target for FUZZTIME (default 60s); a crash or a wrongly accepted input fails, and is saved under testdata/fuzz.
	@$(MAKE) fuzz-run FUZZ_FOR=$(FUZZTIME)

.PHONY: fuzz-run
fuzz-run:
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $${t#*:} ($${t%%:*}, $(FUZZ_FOR))"; \
	  go test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZ_FOR) $${t%%:*} || exit 1; \
	done

.PHONY: test
test: test-deps console ## Unit tests, fuzz targets briefly, store suite on both emulators, handlers, cfn-lint, end to end.
	@echo "== console unit tests (vitest)"
	cd $(CONSOLE_DIR) && npx --no-install vitest run
	@echo "== unit and handler tests"
	go test -count=1 $$(go list ./... | grep -v -e /pkg/storage/dynamo -e /pkg/keys/kmskeys -e /pkg/platform/secretbox -e /test/)
	@echo "== store suite (dynalite, moto), KMS signer and secret box (local-kms)"
	go test -count=1 $(EMULATOR_PKGS)
	@echo "== fuzz targets, $(FUZZTIME_TEST) each"
	@$(MAKE) fuzz-run FUZZ_FOR=$(FUZZTIME_TEST)
	@echo "== template"
	cfn-lint template.yaml
	@echo "== Lambda replay (aws-lambda-rie) and end to end through the local server"
	go test -count=1 -timeout 15m $(SYSTEM_PKGS)

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, go mod tidy check, cfn-lint.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	go vet ./...
	go run $(STATICCHECK) ./...
	cd infra/tools && go vet ./...
	cfn-lint template.yaml

.PHONY: verify
verify: lint ## lint, and fail if go.mod/go.sum are untidy.
	go mod tidy -diff

# make soak: SOAK_DURATION (2 to 5 min; default 3m) of mixed traffic against orgauth-local while the DynamoDB and KMS
# emulators are killed, restarted and frozen; then every acknowledged write is checked. Not part of make test.
SOAK_DURATION ?= 3m

.PHONY: soak
soak: deps console local-bin ## Soak with faults: SOAK_DURATION (default 3m) of load, emulators killed and frozen, writes checked.
	SOAK_DURATION=$(SOAK_DURATION) go test -tags soak -count=1 -timeout 20m -v -run '^TestSoak$$' ./test/soak/

.PHONY: bench
bench: deps ## Benchmark the client_credentials path against its I/O floor, and the token handler's own CPU; a non-caching client (KMS Signs per 1,000 with reuse on/off); bootstrap sizes and cold starts.
	go test -run '^$$' -bench ClientCredentials -benchtime 1000x -count 1 ./test/bench/
	go test -run '^$$' -bench TokenHandlerCPU -benchmem -count 1 ./test/bench/
	go test -run '^$$' -bench NonCachingClient -benchtime 1x -count 1 ./test/bench/
	go test -run '^$$' -bench Bootstrap -benchtime 50x -count 1 ./test/bench/

.PHONY: clean
clean: ## Remove builds, local data (.orgauth/) and installed tools.
	rm -rf build .aws-sam .orgauth $(BIN) infra/node_modules $(CONSOLE_DIR)/node_modules pkg/endpoints/console/dist/app
