#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (CI: 10s).
# A real finding fails with "Failing input written to testdata/fuzz/...".
# Go's fuzzing coordinator sometimes reports "context deadline exceeded"
# when the time runs out while it is minimising a new input, with no
# failing input: that run is repeated once instead of failing the build.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
for pkg in $($GO list ./...); do
  dir=$($GO list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //'); do
    for try in 1 2; do
      echo "fuzz $pkg $f ($FUZZTIME)"
      log=$(mktemp)
      if $GO test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"; then
        rm -f "$log"; break
      fi
      if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
        echo "fuzz $f: the coordinator timed out while minimising (no failing input); running it again"
        rm -f "$log"; continue
      fi
      rm -f "$log"; exit 1
    done
  done
done
