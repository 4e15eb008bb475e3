#!/usr/bin/env bash
# Post REPORT as the pull request's almasync comment, or update the comment posted before
# (found by the hidden MARKER line), so a pull request has one plan comment, kept current.
# Needs: gh, GH_TOKEN, GITHUB_REPOSITORY, and the pull request number as $1.
set -euo pipefail
pr=${1:?pull request number}
report=${2:?report file}
marker=$(head -n 1 "$report")
id=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
       --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$id" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$report" > /dev/null
  echo "Updated comment $id on pull request #$pr."
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" -F "body=@$report" > /dev/null
  echo "Commented on pull request #$pr."
fi
