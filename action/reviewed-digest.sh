#!/usr/bin/env bash
# Print the plan digest of the almasync comment on the pull request that brought commit
# $1 (default: GITHUB_SHA) into the branch, for `apply --expect-digest`. Prints nothing when
# the commit came from no pull request or the pull request has no plan comment.
# Needs: gh, GH_TOKEN, GITHUB_REPOSITORY; $2 is the comment's marker line.
set -euo pipefail
sha=${1:-$GITHUB_SHA}
marker=${2:?marker line of the plan comment}
pr=$(gh api "repos/$GITHUB_REPOSITORY/commits/$sha/pulls" --jq '.[0].number // empty')
if [ -z "$pr" ]; then exit 0; fi
gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .body" \
  | grep -o -m1 'sha256:[0-9a-f]\{64\}' || true
