#!/bin/bash
# The README's test command, and what CI runs: installs the packages (Scripts/setup.sh, as
# root), builds, installs the completions and man pages (Scripts/install-extras.sh), runs every
# test (`swift test`; the suites that boot QEMU included), then fuzzes each parser for 30 s.
# The test output is also kept in a file: when a test fails, its failure lines (Swift Testing's
# ✘ lines and the ↳ lines under them, XCTest's ": error:" lines) are printed again at the very
# end, where a report that keeps only the tail of the output still shows them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh
swift --version
# --build-tests: the build `swift test` uses. A plain `swift build` from scratch once failed
# here on a clang module clash (ICU's UErrorCode, seen by libxml2's headers and by Foundation's)
# while compiling virtkit-bench; this build has never shown it.
swift build --build-tests
bash Scripts/install-extras.sh
log=$(mktemp /tmp/virtkit-test.XXXXXX)
status=0
swift test 2>&1 | tee "$log" || status=$?
if [ "$status" != 0 ]; then
    echo
    echo "=== swift test failed (exit $status); its failure lines again: ==="
    grep -n -E '^(✘|↳)|: error: |Fatal error:|unexpected signal' "$log" | head -300 || true
fi
# One plain closing line for the whole run: Swift Testing's count (XCTest, which has no tests
# here, prints its own "Executed 0 tests" before it).
total=$(grep -oE 'Test run with [0-9]+ tests' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -cP '^✘ Test (?!run ).* failed after' "$log" || true)
rm -f "$log"
# A short fuzzing run of each parser (Scripts/fuzz.sh; longer runs by hand).
if [ "$status" = 0 ] && ! bash Scripts/fuzz.sh --seconds 30; then
    echo "=== Scripts/fuzz.sh found a crash (above) ==="
    status=1
fi
echo "tests: $((total - failed)) passed, $failed failed"
exit "$status"
