#!/usr/bin/env bash
# Turns a sample folder (e.g. samples/hello-buildfarm) into a bare git repository with one commit on
# branch main, and prints that commit's hash on stdout.
#
#   scripts/make-sample-repo.sh SAMPLE_DIR REPO_DIR
#
# The commit is deterministic (fixed author, committer and dates), so the same sample always gives the
# same hash. REPO_DIR is left alone when it already holds that commit, and replaced when the sample
# changed. Used by ./farm (into .farm/samples/NAME.git) and by tests (into a temporary folder).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 SAMPLE_DIR REPO_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
dest=$2
mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")

export GIT_AUTHOR_NAME="BuildFarm" GIT_AUTHOR_EMAIL="buildfarm@example.invalid"
export GIT_COMMITTER_NAME="BuildFarm" GIT_COMMITTER_EMAIL="buildfarm@example.invalid"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

tmp=$(mktemp -d "${dest}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

git init -q --bare -b main "$tmp/repo.git"
# Stage the sample's files straight from its folder into the bare repository's index.
(cd "$src" && GIT_DIR="$tmp/repo.git" GIT_WORK_TREE="$src" git -c core.bare=false add -A .)
GIT_DIR="$tmp/repo.git" GIT_WORK_TREE="$src" git -c core.bare=false -c commit.gpgsign=false commit -q -m "Sample package $(basename "$src")"
sha=$(GIT_DIR="$tmp/repo.git" git rev-parse HEAD)

current=$(GIT_DIR="$dest" git rev-parse -q --verify main 2>/dev/null || true)
if [ "$current" != "$sha" ]; then
  rm -rf "$dest"
  mv "$tmp/repo.git" "$dest"
fi
echo "$sha"
