#!/usr/bin/env bash
# Keep one issue per environment for drift: open it when drift appears, update the same
# issue while the drift lasts, close it when Alma and git agree again.
# Usage: drift-issue.sh CHANGES(true|false) REPORT ENVIRONMENT
# Needs: gh, GH_TOKEN, GITHUB_REPOSITORY; GITHUB_SERVER_URL and GITHUB_RUN_ID for the run link.
set -euo pipefail
changes=${1:?true or false}
report=${2:?report file}
environment=${3:-default}
title="almasync drift: $environment"
label=almasync-drift
run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/${GITHUB_RUN_ID:-}"
number=$(gh issue list --repo "$GITHUB_REPOSITORY" --label "$label" --state open \
           --json number,title --jq ".[] | select(.title == \"$title\") | .number" | head -n 1)
if [ "$changes" = true ]; then
  { cat "$report"; echo; echo "Last checked by $run_url"; } > "$report.issue"
  if [ -n "$number" ]; then
    gh issue edit "$number" --repo "$GITHUB_REPOSITORY" --body-file "$report.issue"
    echo "Drift continues: updated issue #$number."
  else
    gh label create "$label" --repo "$GITHUB_REPOSITORY" --force \
      --description "Alma configuration changed outside git" > /dev/null
    gh issue create --repo "$GITHUB_REPOSITORY" --title "$title" --label "$label" \
      --body-file "$report.issue"
  fi
elif [ -n "$number" ]; then
  gh issue close "$number" --repo "$GITHUB_REPOSITORY" \
    --comment "Alma and git agree again ($run_url)."
  echo "No drift: closed issue #$number."
else
  echo "No drift."
fi
