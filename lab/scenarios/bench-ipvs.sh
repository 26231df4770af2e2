# The IPVS benchmark (README): 10,000 services × 4 destinations applied from empty through the host
# layer, the no-op observe-and-diff, and `ipvsadm -R` of the same rules, in one VM.
# Arguments: SERVICES DESTINATIONS. Needs /usr/local/bin/lb-bench (lab/run.sh --bin).
. /lab/lib.sh

services=${1:-10000}
destinations=${2:-4}
# Real servers live in 10.128.0.0/9: DR destinations must be routable unicast addresses.
ip link add bench0 type veth peer name bench1
ip addr add 10.0.0.1/8 dev bench0
ip link set bench0 up
ip link set bench1 up
lb-bench ipvs --scratch-host --services "$services" --destinations "$destinations" --ipvsadm "$(command -v ipvsadm)" $3 | tee /out/bench-ipvs.json
