#!/usr/bin/env bash
# scripts/static-link.sh OUTDIR PRODUCT...: the debug build's PRODUCTs linked again with the Swift runtime and
# Foundation inside (what --static-swift-stdlib makes, what a package ships), into OUTDIR, from the objects
# `swift build` made: nothing is compiled, each link takes seconds.
#
# Why not `swift build --static-swift-stdlib` on the debug build: SwiftPM then compiles part of the graph
# again in place for the static runtime (Hummingbird's modules, the executables' own), and the next plain
# build fails to link them ("cannot find -lCoreFoundation"); a second scratch path compiles the whole graph
# again, which was a quarter of CI's run. So the link command SwiftPM itself runs (its build manifest,
# .build/debug.yaml) runs again with -static-stdlib, plus the libraries Foundation's static archives need
# that objects compiled for the shared runtime do not name. package-tests.sh checks what comes out: no
# libswiftCore, and it runs in a bare Debian root.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,3s/^# //p' "$0" >&2; exit 2; }
cd "$(dirname "$0")/.."
export PATH=$PATH:/opt/swift/usr/bin
out=$1
shift
bin=$(swift build --show-bin-path)
manifest=.build/debug.yaml
[ -f "$manifest" ] || { echo "static-link: $manifest is missing: run swift build first" >&2; exit 1; }
mkdir -p "$out"
for product in "$@"; do
    [ -x "$bin/$product" ] || { echo "static-link: $bin/$product is missing: run swift build --product $product first" >&2; exit 1; }
    # The manifest is YAML whose command lines are JSON arrays; the link is the command whose only output
    # is the product.
    mapfile -d '' args < <(python3 - "$manifest" "$(readlink -f "$bin")/$product" "$out/$product" <<'PY'
import json, sys
manifest, target, out = sys.argv[1:]
lines = open(manifest).read().splitlines()
for i, line in enumerate(lines):
    if line.strip() == 'outputs: ' + json.dumps([target]):
        for follow in lines[i + 1:i + 6]:
            if follow.strip().startswith('args: '):
                args = json.loads(follow.strip()[len('args: '):])
                args[args.index('-o') + 1] = out
                args += ['-static-stdlib', '-lCoreFoundation', '-l_FoundationICU', '-l_FoundationCShims',
                         '-l_FoundationCollections']
                sys.stdout.write('\0'.join(args) + '\0')
                sys.exit(0)
sys.exit('static-link: no link command for %s in %s' % (target, manifest))
PY
    )
    ((${#args[@]})) || exit 1
    "${args[@]}" 2>&1 | grep -v "warning: the use of .mktemp' is dangerous" || true
    [ -x "$out/$product" ] || { echo "static-link: linking $product failed" >&2; exit 1; }
    if ldd "$out/$product" | grep -q libswift; then
        echo "static-link: $out/$product still needs the shared Swift runtime" >&2
        exit 1
    fi
    echo "static-link: $out/$product"
done
