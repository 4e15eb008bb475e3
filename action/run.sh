#!/usr/bin/env bash
# Runs one almasync command the way the shipped CI workflows do, and leaves its report in a
# folder for the steps that talk to GitHub or GitLab (comment, issue, artifact).
#
# Inputs (environment):
#   ALMASYNC_COMMAND  plan | apply | drift                          (required)
#   ALMASYNC_CONFIG   config folder                                 (default: config)
#   ALMASYNC_ENV      environment from almasync.yaml                (default: none: ALMA_API_URL/ALMA_API_KEY)
#   ALMASYNC_DIGEST   apply: the digest the reviewer approved; apply refuses (exit 6) any other plan
#   ALMASYNC_OUT      folder for reports                            (default: .almasync-ci)
#   ALMASYNC_ARGS     extra arguments for the command
#   ALMASYNC          how to run almasync                           (default: almasync)
# Outputs, in ALMASYNC_OUT and in $GITHUB_OUTPUT when set:
#   exit-code, changes (true/false), digest (plan), report (path of the Markdown report),
#   marker (the hidden line that identifies this report in a comment or issue).
# Exit status: almasync's own, except that 2 ("changes present") counts as success, because
# the next steps report the changes; the exit-code output keeps the real value.
set -uo pipefail

command=${ALMASYNC_COMMAND:?set ALMASYNC_COMMAND to plan, apply or drift}
config=${ALMASYNC_CONFIG:-config}
out=${ALMASYNC_OUT:-.almasync-ci}
read -r -a almasync <<< "${ALMASYNC:-almasync}"
read -r -a extra <<< "${ALMASYNC_ARGS:-}"
env_args=()
if [ -n "${ALMASYNC_ENV:-}" ]; then env_args=(--env "$ALMASYNC_ENV"); fi
mkdir -p "$out"
marker="<!-- almasync:${command/apply/plan}:${ALMASYNC_ENV:-default} -->"
report="$out/$command.md"

case "$command" in
  plan)
    "${almasync[@]}" validate "$config" || exit $?
    "${almasync[@]}" plan "$config" "${env_args[@]}" --format markdown --detailed-exitcode \
      --out "$out/plan.json" "${extra[@]}" > "$out/body.md"
    code=$?
    ;;
  apply)
    digest_args=()
    if [ -n "${ALMASYNC_DIGEST:-}" ]; then digest_args=(--expect-digest "$ALMASYNC_DIGEST"); fi
    "${almasync[@]}" apply "$config" "${env_args[@]}" --auto-approve "${digest_args[@]}" \
      "${extra[@]}" > "$out/body.md"
    code=$?
    ;;
  drift)
    "${almasync[@]}" drift "$config" "${env_args[@]}" --include-unmanaged --format markdown \
      --junit "$out/drift.xml" "${extra[@]}" > "$out/body.md"
    code=$?
    ;;
  *)
    echo "ALMASYNC_COMMAND must be plan, apply or drift, not '$command'" >&2
    exit 64
    ;;
esac

if [ "$command" = apply ]; then
  # apply prints a text report: keep it as it is, inside a fence.
  { echo "$marker"; echo "### almasync apply${ALMASYNC_ENV:+ on environment **$ALMASYNC_ENV**}"
    echo; echo '```text'; cat "$out/body.md"; echo '```'; } > "$report"
else
  { echo "$marker"; cat "$out/body.md"; } > "$report"
fi
rm -f "$out/body.md"
digest=$(grep -o -m1 'sha256:[0-9a-f]\{64\}' "$report" || true)
changes=false
if [ "$code" -eq 2 ]; then changes=true; fi
{
  echo "exit-code=$code"
  echo "changes=$changes"
  echo "digest=$digest"
  echo "report=$report"
  echo "marker=$marker"
} > "$out/outputs"
if [ -n "${GITHUB_OUTPUT:-}" ]; then cat "$out/outputs" >> "$GITHUB_OUTPUT"; fi
if [ "$code" -eq 2 ]; then exit 0; fi
exit "$code"
