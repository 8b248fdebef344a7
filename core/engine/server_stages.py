"""The stages that run on each server: upload, pre-deploy hook, deploy, post-deploy hook, health."""

from __future__ import annotations

from collections.abc import Callable

from core.engine import scripts
from core.engine.connections import TaskConnections
from core.engine.context import TaskContext
from core.engine.delta import Payload
from core.engine.early import Early, EarlyStagings, abandon
from core.engine.output import NodeOutput
from core.engine.payloads import Payloads, stream
from core.engine.plan import ReleasePaths, releases_to_remove
from core.engine.settings import EngineSettings
from core.engine.steps import StepResult, Work
from core.engine.summary import DELTA, FULL, NONE, files
from core.errors import HoistError
from core.health.check import check_health
from core.health.spec import HealthCheck
from core.source.manifest import Manifest
from core.status import Stage, TaskKind
from core.store.models import Server
from core.transport.ssh import ChannelError, PendingScript, RunResult


class ServerStages:
    """Builds the work of each node of one server for one task."""

    def __init__(
        self,
        ctx: TaskContext,
        server: Server,
        connections: TaskConnections,
        settings: EngineSettings,
        payloads: Payloads | None,
        base: str | None = None,
        early: EarlyStagings | None = None,
    ) -> None:
        self.ctx = ctx
        self.server = server
        self.connections = connections
        self.settings = settings
        self.payloads = payloads
        self.base = base
        self.early = early
        """The release this server was last switched to, as far as this Hoist knows."""
        self.paths: ReleasePaths = ctx.paths()
        self.staged_beside: tuple[list[str], str | None] | None = None
        """Once this task staged the release here: the server's release folders and the
        one its link pointed at then (which old releases the deploy stage may remove)."""

    def work(self, stage: Stage) -> Work | None:
        task = self.ctx.task
        rollback = task.kind == TaskKind.ROLLBACK
        match stage:
            case Stage.UPLOAD:
                return self.upload_if_missing if rollback else self.upload
            case Stage.DEPLOY:
                return self.deploy
            case Stage.PRE_DEPLOY if task.hook_pre_deploy.strip():
                return lambda out: self.hook(task.hook_pre_deploy, self.paths.codes_dir, out)
            case Stage.POST_DEPLOY if task.hook_post_deploy.strip():
                return lambda out: self.hook(task.hook_post_deploy, self.paths.link, out)
            case Stage.HEALTH:
                check = HealthCheck.from_stored(self.ctx.env.health_check)
                return (lambda out: self.health(check, out)) if check else None
        return None

    async def run(
        self,
        script: str,
        output: NodeOutput | None = None,
        env: dict[str, str] | None = None,
    ) -> RunResult:
        """Run a script on the server (on a new connection if the pooled one was lost
        before it started)."""
        on_line = output.line if output is not None else None
        return await self.connections.call(
            self.server, lambda conn: conn.run(script, env=env, on_line=on_line)
        )

    async def upload(self, output: NodeOutput) -> StepResult:
        """Stage the release on the server: as a delta from the release it points at when
        that can be proven intact, else whole."""
        payloads = self._payloads()
        manifest = await payloads.manifest()
        early = self.early.take(self.server.name) if self.early is not None else None
        base, tried = self.base, set[str]()
        reason = "the server has no release of this environment yet"
        try:
            while base is not None and base not in tried:
                tried.add(base)
                delta = await payloads.delta(base)
                if isinstance(delta, str):
                    reason = delta
                    break
                started, early = (early, None) if early and early.base == base else (None, early)
                result, sent, early_used = await self._stage_delta(
                    manifest, delta, base, started, output
                )
                if result.ok:
                    when = " (checked and linked while the release was packaged)"
                    output.line(
                        f"delta from {base}: {files(delta.files)} sent, {sent} bytes; "
                        f"the rest are hard links of the live release{when if early_used else ''}"
                    )
                    return StepResult(0, _sent(sent, delta.files, DELTA))
                base, reason = _why_not(result, base)
                if base is None:
                    output.line(f"no delta: {reason}")
        finally:
            if early is not None:
                await abandon(early)
        return await self._upload_whole(manifest, reason, output)

    async def _upload_whole(
        self, manifest: Manifest, reason: str, output: NodeOutput
    ) -> StepResult:
        output.line(f"sending the whole release: {reason}")
        payload = await self._payloads().full()
        staging = scripts.Staging(manifest.digest, manifest.listing_sha256, len(payload.meta))
        script = scripts.stage_whole(self.paths, staging)
        line = self._listen(output)
        result, sent = await self.connections.call(
            self.server, lambda conn: conn.send(script, stream(payload), on_line=line)
        )
        if not result.ok:
            detail = _last_line(result) or f"exit status {result.exit_status}"
            return StepResult(result.exit_status, {"error": f"cannot stage the release: {detail}"})
        output.line(f"sent {sent} bytes ({files(payload.files)}), verified against the manifest")
        return StepResult(0, _sent(sent, payload.files, FULL) | {"transfer_note": reason})

    async def _stage_delta(
        self,
        manifest: Manifest,
        delta: Payload,
        base: str,
        early: Early | None,
        output: NodeOutput,
    ) -> tuple[RunResult, int, bool]:
        """Stage `delta` on top of `base`: going on with the staging started early, or
        starting it now (also when the early one's session was lost meanwhile); and whether
        the early one was used."""
        check = scripts.DeltaBase(base, delta.base_sha256)
        staging = scripts.Staging(manifest.digest, manifest.listing_sha256, gzip=delta.gzip)
        size = len(delta.tree) if isinstance(delta.tree, bytes) else delta.tree.stat().st_size
        rest = scripts.finish_delta(self.paths, staging, check, delta.remove, size)
        line = self._listen(output)
        if early is not None:
            try:
                pending = await early.script
                return (*await self._finish_delta(pending, rest, delta, line), True)
            except (ChannelError, HoistError) as error:
                output.line(f"the staging started early was lost ({error}): starting again")
        first = scripts.prepare_delta(self.paths, check)
        pending = await self.connections.call(self.server, lambda conn: conn.open_script(first))
        return (*await self._finish_delta(pending, rest, delta, line), False)

    async def _finish_delta(
        self, pending: PendingScript, rest: str, delta: Payload, line: Callable[[str], None]
    ) -> tuple[RunResult, int]:
        """Send the rest of the staging and the delta; once staged, the session is parked
        for the deploy stage (where a run can hold it)."""
        if self.early is None:
            return await pending.go_on(rest, stream(delta), on_line=line)
        result, sent = await pending.go_on(
            rest, stream(delta), on_line=line, pause_at=scripts.STAGED
        )
        if result.ok:
            self.early.park(self.server.name, pending)
        return result, sent

    def _listen(self, output: NodeOutput) -> Callable[[str], None]:
        """Passes a staging's output on to `output`, but keeps the release folders it
        lists at the end (`staged_beside`)."""
        releases: list[str] = []
        self.staged_beside = (releases, None)

        def line(text: str) -> None:
            if text.startswith(scripts.RELEASE):
                releases.append(text.removeprefix(scripts.RELEASE))
            elif text.startswith(scripts.LIVE):
                self.staged_beside = (releases, text.removeprefix(scripts.LIVE))
            else:
                output.line(text)

        return line

    def _payloads(self) -> Payloads:
        if self.payloads is None:
            raise HoistError("this task has no release to send")
        return self.payloads

    async def upload_if_missing(self, output: NodeOutput) -> StepResult:
        probe = await self.run(f"test -d {scripts.q(self.paths.release_dir)}")
        if probe.ok:
            output.line(f"{self.ctx.task.version} is still on the server: no upload")
            return StepResult(0, {"transfer": NONE})
        manifest = await self._payloads().manifest()
        return await self._upload_whole(
            manifest, f"{self.ctx.task.version} is gone from the server", output
        )

    async def deploy(self, output: NodeOutput) -> StepResult:
        """Move the staged release into place and switch to it; with nothing staged (a
        rollback, or a rollout step undone and retried) switch to the release already there."""
        result = await self._install(output)
        if result.exit_status == scripts.GONE and self.ctx.task.kind == TaskKind.DEPLOY:
            output.line("the staged release is gone from the server (cleaned up?): staging again")
            staged = await self.upload(output)
            if staged.exit_status != 0:
                return staged
            script = scripts.install_and_switch(self.paths, self._old_releases())
            result = await self.run(script)
        lines = result.output.splitlines()
        previous = None
        if lines and lines[0].startswith(scripts.PREVIOUS):
            previous = lines.pop(0).removeprefix(scripts.PREVIOUS).strip() or None
        for line in lines:
            output.line(line)
        if result.exit_status == 0:
            output.line(f"{self.paths.link} → {self.paths.release_dir}")
        return StepResult(result.exit_status, {"previous_release": previous})

    async def _install(self, output: NodeOutput) -> RunResult:
        """Run the switch in the session that staged the release, if it is parked; else (or
        if that session ended or was lost before the switch began) in a new one."""
        script = scripts.install_and_switch(self.paths, self._old_releases())
        parked = self.early.unpark(self.server.name) if self.early is not None else None
        if parked is not None and not parked.waiting:
            output.line("the session that staged the release is gone: switching in a new one")
            await parked.close()
        elif parked is not None:
            try:
                result, _ = await parked.go_on(script)
            except ChannelError as error:
                if scripts.PREVIOUS in parked.output:
                    raise  # the switch had begun: run again only by a person's retry
                output.line(f"the session that staged the release was lost ({error})")
            else:
                if result.exit_status >= 0 or scripts.PREVIOUS in result.output:
                    return result
                output.line("the session that staged the release ended before the switch")
        return await self.run(script)

    async def hook(self, script: str, cwd: str, output: NodeOutput) -> StepResult:
        facts = self.ctx.facts(self.server.name)
        result = await self.run(scripts.hook(script, facts, cwd), output)
        return StepResult(result.exit_status)

    async def health(self, check: HealthCheck, output: NodeOutput) -> StepResult:
        """The environment's health check, until it passes enough times in a row or its
        wait runs out; a command check runs in the live release with the hook facts."""
        facts = self.ctx.facts(self.server.name)

        async def command(script: str, out: NodeOutput) -> int:
            result = await self.run(scripts.hook(script, facts, self.paths.link), out)
            return result.exit_status

        return await check_health(
            check,
            address=self.server.address,
            name=self.server.name,
            run_command=command,
            output=output,
        )

    def _old_releases(self) -> list[str]:
        """The release folders a deploy removes once it switched: beyond the project's
        `keep_releases`, never the new one nor the one the server pointed at before."""
        if self.staged_beside is None or self.ctx.task.kind != TaskKind.DEPLOY:
            return []
        releases, live = self.staged_beside
        version = self.paths.version
        keep = self.ctx.project.keep_releases
        return releases_to_remove({*releases, version}, keep, version, live)


def _sent(size: int, files: int, transfer: str) -> dict[str, object]:
    return {"bytes_sent": size, "files_sent": files, "transfer": transfer}


def _why_not(result: RunResult, base: str) -> tuple[str | None, str]:
    """After a delta was refused: the base to try next (the server's live release, when it
    is not the one assumed) and why the delta from `base` did not happen."""
    if result.exit_status == scripts.NOT_LIVE:
        live = next(
            (
                line.removeprefix("live: ").strip()
                for line in result.output.splitlines()
                if line.startswith("live: ")
            ),
            "",
        )
        if not live:
            return None, "the server has no live release of this environment"
        return live, f"the server points at {live}, not {base}"
    reasons = {
        scripts.BASE_CHANGED: "the live release cannot be trusted",
        scripts.CANNOT_LINK: "the server's filesystem refused a hard link",
        scripts.MISMATCH: "the delta did not rebuild the release exactly",
    }
    why = reasons.get(result.exit_status, f"the delta failed (exit status {result.exit_status})")
    detail = _last_line(result)
    return None, f"{why} ({detail})" if detail else why


def _last_line(result: RunResult) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
