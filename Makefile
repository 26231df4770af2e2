# The two commands a newcomer needs (README): `make demo` runs the main job, `make test` runs every test.
# Both install what they need first.

SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
# Debian packages for building (libsodium) and for the test run.
APT_PACKAGES := libsodium-dev pkg-config
FUZZ_SECONDS ?= 30

.PHONY: demo test deps build fuzz clean

deps:
	@scripts/install-deps.sh $(APT_PACKAGES)

build: deps
	$(SWIFT) build

# Every test: unit, command-line, namespace and lab tests, then each fuzzer for a bounded time.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/fuzz.sh document $(FUZZ_SECONDS)
	scripts/fuzz.sh netlink $(FUZZ_SECONDS)

# The lab demo of the reference scenario (for now: keys, validate, plan, sign, verify).
demo: deps
	$(SWIFT) build --product lbctl
	scripts/demo.sh

fuzz: deps
	scripts/fuzz.sh document $(FUZZ_SECONDS)
	scripts/fuzz.sh netlink $(FUZZ_SECONDS)

clean:
	rm -rf .build .build-fuzz
