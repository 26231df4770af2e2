# The two commands a newcomer needs (README): `make demo` runs the main job, `make test` runs every test.
# Both install what they need first.

SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
# Debian packages for building (libsodium) and for the test run.
APT_PACKAGES := libsodium-dev libsqlite3-dev pkg-config keepalived qemu-system-x86 busybox-static ipvsadm cpio kmod iproute2 python3-aiosmtpd dnsmasq-base chromium openssl \
	dpkg-dev binutils debootstrap lintian systemd e2fsprogs
# The packages' version (make package); a native Debian version, so no revision.
VERSION := $(shell cat VERSION)
# Each fuzzer's time in `make test`: 8 of them at 20 s keep the whole run on 2 cores under 30 minutes;
# `make fuzz FUZZ_SECONDS=600` searches longer.
FUZZ_SECONDS ?= 20

.PHONY: demo test deps build package fuzz lab-test bench-ipvs bench-gossip bench-agent bench-health bench-controller bench-websocket clean

deps:
	@scripts/install-deps.sh $(APT_PACKAGES)

build: deps
	$(SWIFT) build

# Every test: unit, command-line, namespace, lab and package tests, and each fuzzer for a bounded time.
# scripts/test.sh builds once and runs the lab and package tests beside the rest (a VM leaves a core
# idle); each step prints its time (scripts/timed.sh) and a failed step does not stop the others.
test: deps
	scripts/test.sh $(FUZZ_SECONDS)

# The Debian packages (README, Install on real hosts): dist/lb-agent_VERSION_amd64.deb and
# dist/lb-controller_VERSION_amd64.deb (with lbctl), from release binaries with the static Swift stdlib.
package: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-agent
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-controller
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lbctl
	scripts/package.sh agent $(VERSION) .build-release dist
	scripts/package.sh controller $(VERSION) .build-release dist

# The lab demo of the reference scenario: keys, validate, plan, sign, verify, then in the qemu lab the
# WebSocket story narrated (apply, director crash and return, real-server failure, drain, tampering,
# forgery, controller loss) and its figures beside keepalived's.
demo: deps
	$(SWIFT) build --product lbctl
	$(SWIFT) build --product lb-agent
	$(SWIFT) build --product lb-controller
	$(SWIFT) build --product lb-bench
	scripts/demo.sh

fuzz: deps
	scripts/fuzz.sh document $(FUZZ_SECONDS)
	scripts/fuzz.sh netlink $(FUZZ_SECONDS)
	scripts/fuzz.sh vrrp $(FUZZ_SECONDS)
	scripts/fuzz.sh gossip $(FUZZ_SECONDS)
	scripts/fuzz.sh gossipnet $(FUZZ_SECONDS)
	scripts/fuzz.sh health $(FUZZ_SECONDS)
	scripts/fuzz.sh controller $(FUZZ_SECONDS)
	scripts/fuzz.sh connsync $(FUZZ_SECONDS)

# Only the tests that need the qemu lab (a kernel with IPVS).
lab-test: deps
	$(SWIFT) build --build-tests
	scripts/lab-tests.sh
	scripts/package-tests.sh

# The gossip benchmark (README): the simulator at 1,000 and 10,000 members, one JSON line each.
bench-gossip: deps
	$(SWIFT) build -c release --scratch-path .build-release --product lb-bench
	.build-release/release/lb-bench gossip --members 1000
	.build-release/release/lb-bench gossip --members 10000

# The IPVS benchmark (README): 10,000 services × 4 destinations, in the lab, with a release build.
bench-ipvs: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-bench
	lab/run.sh --timeout 900 --no-keepalived --bin .build-release/release/lb-bench lab/scenarios/bench-ipvs.sh 10000 4

# The agent benchmark (README, root): drift repair latency and idle memory of real lb-agent processes in
# network namespaces, beside keepalived's memory for the same VIP; a release build, as installed.
bench-health: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-bench
	.build-release/release/lb-bench health --checks 10000 --interval-ms 5000 --rounds 4 --listener remote
	.build-release/release/lb-bench health --checks 10000 --interval-ms 5000 --rounds 4 --listener loopback

# The controller benchmark (README, root): lbctl apply to every real agent converged, 4 and 100 agents in
# network namespaces; the status API over 1,000 nodes' reports; the status page in Chromium.
bench-controller: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-agent
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-controller
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lbctl
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-bench
	.build-release/release/lb-bench apply --controller .build-release/release/lb-controller --agent .build-release/release/lb-agent \
		--lbctl .build-release/release/lbctl --agents 4 --runs 10
	.build-release/release/lb-bench apply --controller .build-release/release/lb-controller --agent .build-release/release/lb-agent \
		--lbctl .build-release/release/lbctl --agents 100 --runs 10
	.build-release/release/lb-bench status-api --nodes 1000 --requests 50
	.build-release/release/lb-bench status-page --nodes 1000

# The WebSocket story in the qemu lab (README): 5 runs of lb's scenario (200 WebSockets through a director
# crash and its return), then keepalived 2.2.7 through the same steps, side by side (≈25 min).
bench-websocket: deps
	$(SWIFT) build --build-tests
	scripts/bench-websocket.sh 5

bench-agent: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-agent
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lb-bench
	.build-release/release/lb-bench drift --agent .build-release/release/lb-agent --runs 20 --keepalived /usr/sbin/keepalived
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product lbctl
	scripts/bench-agent-lab.sh .build-release/release 10000

clean:
	rm -rf .build .build-release .lab-cache dist
