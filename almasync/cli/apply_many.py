"""``apply`` over several environments (``--env a,b`` or ``--all-envs``).

Each environment is planned and applied on its own thread, through the same workflow as a
single apply: its own client and rate limiter, overlay, safety rules, environment guard,
institution lock, write-access check and journal (under ``<journals>/<env>/``). Every plan
is shown and confirmed once for all of them; then they write concurrently. One
environment that fails or is blocked does not stop the others (each is applied on its
own, as Terraform applies each workspace); the exit code is the worst of them.

Signals belong to the main thread, which only waits: before confirmation a signal ends the
run with nothing written; after it, the first signal sets one shared stop so that no
environment starts another write (the write in flight in each finishes within its call
timeout, and is journalled), and a second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import click

from almasync import budget, consortium, engine, jobs, workflow
from almasync.apply import Outcome as Done
from almasync.cli import render
from almasync.cli.applying import echo_ending, person_says_yes, result_lines, write_access
from almasync.cli.connect import connect
from almasync.cli.jobs_cmds import echo_job_event, echo_post_apply_plan
from almasync.cli.locking import holding
from almasync.cli.terminal import note, use_colour
from almasync.config.loader import load_config
from almasync.errors import AlmasyncError, ExitCode, UsageError
from almasync.plan.plan import Plan

log = logging.getLogger("almasync")

PlanMaker = Callable[..., Plan]


@dataclass
class _Env:
    """One environment's run, as the main thread sees it."""

    name: str
    plan: Plan | None = None
    post_apply: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    shown: int = 0
    asking: bool = False
    approved: bool = False
    #: The answer came from a person, who may have taken minutes.
    asked_a_person: bool = False
    outcome: workflow.Outcome | None = None
    code: int = ExitCode.OK
    error: str | None = None
    #: Set once the plan can be shown: the run asks for confirmation, or has ended.
    ready: threading.Event = field(default_factory=threading.Event)
    decided: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)

    def ask(self, plan: Plan) -> bool:
        self.asking = True
        self.ready.set()
        self.decided.wait()
        return self.approved

    def decide(self, approved: bool, *, asked_a_person: bool = False) -> None:
        self.approved = approved
        self.asked_a_person = asked_a_person
        self.decided.set()

    def unshown_notes(self) -> list[str]:
        fresh = self.notes[self.shown:]
        self.shown += len(fresh)
        return fresh


@dataclass
class _Job:
    directory: Path
    make_plan: PlanMaker
    force: bool
    lock_timeout: float | None
    journals: Path
    max_calls: int | None = None
    stop: workflow.SharedStop = field(default_factory=workflow.SharedStop)
    institutions: dict[str, str] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, institution: str, env: str) -> None:
        """Two environments that reach one institution would wait on each other's lock."""
        with self.guard:
            first = self.institutions.setdefault(institution, env)
        if first != env:
            raise UsageError(f"environments {first} and {env} both reach institution "
                             f"{institution}; apply them one at a time")


def run(directory: Path, envs: list[str], make_plan: PlanMaker, *, auto_approve: bool,
        force: bool, lock_timeout: float | None, journal_dir: Path | None,
        max_calls: int | None = None) -> int:
    """Plan every environment, show every plan, confirm once, apply them concurrently."""
    job = _Job(directory, make_plan, force, lock_timeout,
               journal_dir or directory / workflow.JOURNALS, max_calls)
    items = [_Env(name) for name in envs]
    note(f"Planning {len(envs)} environments concurrently: {', '.join(envs)}")
    ctx = click.get_current_context(silent=True)
    with _Owner(job.stop) as owner:
        for item in items:
            threading.Thread(target=_work, args=(item, job, ctx), daemon=True,
                             name=f"almasync-env-{item.name}").start()
        try:
            _wait(item.ready for item in items)
            _show(items)
            approved = _confirmed([item for item in items if item.asking], auto_approve)
        except AlmasyncError:
            for item in items:
                item.decide(False)
            _wait(item.ended for item in items)
            raise
        except BaseException:
            # Interrupted before anything was confirmed: nothing has been written.
            for item in items:
                item.decide(False)
            raise
        owner.writing = True
        if approved:
            note("Applying to every confirmed environment concurrently...")
        for item in items:
            item.decide(approved, asked_a_person=not auto_approve)
        try:
            _wait(item.ended for item in items)
        except workflow.StoppedAtOnce:
            click.echo(f"Journals of the environments that had started writing are under "
                       f"{job.journals}/<environment>/.", err=True)
            raise
    for item in items:
        _report(item, f"almasync apply {directory} --env {item.name}")
    click.echo(f"\n{len(items)} environments: "
               + "; ".join(_summary(item) for item in items) + ".")
    return consortium.worst([item.code for item in items])


def _work(item: _Env, job: _Job, ctx: click.Context | None) -> None:
    """One environment, on its own thread: never raises, records its outcome. The
    command's context is made this thread's too (--timeout, -q)."""
    try:
        with ctx.scope(cleanup=False) if ctx is not None else nullcontext():
            item.outcome = _apply_one(item, job)
        item.code = item.outcome.exit_code
        if item.outcome.stage is workflow.Stage.CANCELLED and job.stop.is_set():
            item.code = ExitCode.INTERRUPTED
    except AlmasyncError as exc:
        item.code, item.error = int(exc.exit_code), str(exc)
    except Exception as exc:  # reported as the environment's failure, never a traceback
        log.debug("unexpected error in environment %s", item.name, exc_info=True)
        item.code = ExitCode.ERROR
        item.error = f"Unexpected error: {type(exc).__name__}: {exc}"
    finally:
        item.ready.set()
        item.ended.set()


def _apply_one(item: _Env, job: _Job) -> workflow.Outcome:
    desired = load_config(job.directory, item.name)
    item.post_apply = jobs.describe_post_apply(desired.settings.post_apply)
    # One memory of reads per environment, as for a single apply (AlmaClient.memo).
    with connect(desired.settings, item.name, None, read_only=False) as conn, \
            conn.client.memo():
        identity = engine.identify(conn.client)
        job.claim(identity.code, item.name)
        # Held while planning too: a plan read while another run writes would be stale.
        with holding(identity.code, "apply", job.lock_timeout):
            plan = job.make_plan(conn, desired, identity=identity, progress_shown=False,
                                 info={"config": str(job.directory), "env": item.name})
            budget.check_plan(plan, conn.client.calls, job.max_calls, conn.client.remaining,
                              spent=conn.client.calls)
            options = workflow.Options(desired.settings, item.name, conn.environment_type,
                                       job.force, journal_dir=job.journals / item.name)
            def confirm(proposed: Plan) -> bool:
                approved = item.ask(proposed)
                if approved and item.asked_a_person:
                    # As for one environment: what was read before the answer is read again.
                    conn.client.forget()
                return approved

            seams = workflow.Seams(confirm=confirm, on_plan=_keep(item),
                                   on_note=item.notes.append, on_job_event=echo_job_event,
                                   before_writing=(write_access,), stop=job.stop)
            return workflow.run(conn.client, plan, options, seams)


def _keep(item: _Env) -> Callable[[Plan], None]:
    def keep(plan: Plan) -> None:
        item.plan = plan
    return keep


def _wait(events: Iterator[threading.Event]) -> None:
    """Wait in short steps, so that the main thread handles signals as they come."""
    for event in events:
        while not event.wait(0.2):
            pass


def _show(items: list[_Env]) -> None:
    for item in items:
        click.echo(f"== environment {item.name} ==")
        if item.plan is not None:
            click.echo(render.plan_text(item.plan, colour=use_colour(), verb="apply"),
                       color=use_colour())
            if item.asking:
                echo_post_apply_plan(item.post_apply)
        elif item.error is not None:
            click.echo(f"Failed (exit {item.code}): {item.error}")
        for sentence in item.unshown_notes():
            click.echo(f"{item.name}: {sentence}", err=True)


def _confirmed(asking: list[_Env], auto_approve: bool) -> bool:
    if not asking:
        return False
    if auto_approve:
        return True
    counts = ", ".join(f"{item.name}: {len(item.plan.changes) if item.plan else 0}"
                       for item in asking)
    total = sum(len(item.plan.changes) for item in asking if item.plan is not None)
    return person_says_yes(f"Apply these {total} changes to {len(asking)} environment(s) "
                           f"({counts})?", "apply", "plans")


def _report(item: _Env, again: str) -> None:
    """One environment's section of the combined report."""
    outcome = item.outcome
    click.echo(f"\n== environment {item.name}: result ==")
    for sentence in item.unshown_notes():
        click.echo(f"{item.name}: {sentence}", err=True)
    if outcome is None:
        click.echo(f"Failed (exit {item.code}): {item.error}")
        return
    if outcome.stage is workflow.Stage.EMPTY:
        click.echo("No changes.")
        return
    if outcome.report is not None and not outcome.interrupted:
        for result in outcome.report.results:
            line, error = result_lines(result)
            click.echo(line)
            if error:
                click.echo(error, err=True)
    if outcome.stage is workflow.Stage.CANCELLED and item.code == ExitCode.INTERRUPTED:
        click.echo("Interrupted before writing; nothing was changed.")
        return
    echo_ending(outcome, "apply", again)


def _summary(item: _Env) -> str:
    outcome = item.outcome
    if outcome is None:
        return f"{item.name}: failed (exit {item.code})"
    state = {workflow.Stage.EMPTY: "no changes",
             workflow.Stage.BLOCKED: "blocked by a safety rule, nothing applied",
             workflow.Stage.CANCELLED: "not applied",
             workflow.Stage.INTERRUPTED: "interrupted, nothing applied"}.get(outcome.stage)
    if item.code == ExitCode.INTERRUPTED and outcome.stage is workflow.Stage.CANCELLED:
        state = "interrupted, nothing applied"
    if state is None and outcome.report is not None:
        done = {o: len(outcome.report.of(o)) for o in Done}
        state = f"{done[Done.APPLIED]} applied, {done[Done.FAILED]} failed"
        if outcome.interrupted:
            state += f", interrupted by {outcome.interrupted}"
    return f"{item.name}: {state} (exit {item.code})"


class _Owner:
    """The main thread's signal handlers while environments run on other threads."""

    def __init__(self, stop: workflow.SharedStop) -> None:
        self.stop = stop
        #: False until the plans are confirmed: a signal before then ends the run.
        self.writing = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _Owner:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._caught)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _caught(self, signum: int, frame: object) -> None:
        if not self.writing:
            raise KeyboardInterrupt
        if self.stop.is_set():
            raise workflow.StoppedAtOnce(signum)
        name = signal.Signals(signum).name
        self.stop.request(name)
        click.echo(f"{name} received: no environment starts another write; settling the "
                   "writes in flight (a second signal stops at once).", err=True)


def several(source: Path, env_name: str | None, all_envs: bool,
            expect_digest: str | None) -> bool:
    """Whether ``apply`` runs over several environments; the combinations it cannot run
    are usage errors (exit 64), refused before anything is read."""
    named = [name for name in (env_name or "").split(",") if name.strip()]
    if not all_envs and len(named) < 2:
        return False
    if source.is_file():
        raise UsageError(f"{source} is a saved plan, made for one environment and "
                         "institution; apply each environment's plan file on its own "
                         "(e.g. `almasync apply plan-alpha.json`), or give a config folder "
                         "to plan and apply several environments afresh")
    if expect_digest is not None:
        raise UsageError("--expect-digest names the digest of one plan; with several "
                         "environments apply each on its own with its reviewed digest")
    return True
