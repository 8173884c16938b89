#!/usr/bin/env bash
# Shows that strengthened tests catch the regressions they are named for: each *.patch here breaks the product on purpose; the script
# applies it to a scratch worktree of HEAD, builds the named test project and runs the named tests, which must FAIL.
# Usage: tests/mutations/run.sh [patch-name-substring...]   (slow: one incremental build per patch; not part of `dotnet test`)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d /tmp/prm-mutations.XXXXXX)
trap 'git -C "$root" worktree remove --force "$scratch/tree" >/dev/null 2>&1; rm -rf "$scratch"' EXIT
git -C "$root" worktree add --detach "$scratch/tree" HEAD >/dev/null
ln -s "$root/node_modules" "$scratch/tree/node_modules"   # Azurite for the end-to-end tests
cd "$scratch/tree"
status=0
for patch in "$root"/tests/mutations/*.patch; do
  name=$(basename "$patch" .patch)
  if [ $# -gt 0 ]; then match=0; for want in "$@"; do [[ $name == *$want* ]] && match=1; done; [ $match = 1 ] || continue; fi
  project=$(sed -n 's/^# project: //p' "$patch"); filter=$(sed -n 's/^# filter: //p' "$patch")
  git checkout -q -- . && git apply "$patch" || { echo "$name: PATCH DOES NOT APPLY"; status=1; continue; }
  if ! dotnet build "$project" -v q -nologo > "$scratch/$name.build.log" 2>&1; then
    echo "$name: BUILD FAILED (see below)"; tail -20 "$scratch/$name.build.log"; status=1; continue
  fi
  dotnet test "$project" --no-build --filter "$filter" > "$scratch/$name.test.log" 2>&1
  summary=$(grep -E "^(Failed|Passed)! " "$scratch/$name.test.log" | tail -1)
  if grep -q "^Failed! " "$scratch/$name.test.log"; then
    echo "$name: caught — $summary"
    grep -m1 -A4 -E "^\s+Failed Prm\." "$scratch/$name.test.log" | sed 's/^/    /'
  else
    echo "$name: NOT CAUGHT — $summary"; status=1
  fi
  git checkout -q -- .
done
exit $status
