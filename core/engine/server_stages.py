"""The stages that run on each server: upload, pre-deploy hook, deploy, post-deploy hook, health."""

from __future__ import annotations

from pathlib import Path

from core.engine import scripts
from core.engine.connections import TaskConnections
from core.engine.context import TaskContext
from core.engine.output import NodeOutput
from core.engine.plan import ReleasePaths
from core.engine.settings import EngineSettings
from core.engine.steps import StepResult, Work
from core.errors import HoistError
from core.health.check import check_health
from core.health.spec import HealthCheck
from core.status import Stage, TaskKind
from core.store.models import Server
from core.transport.ssh import Connection


class ServerStages:
    """Builds the work of each node of one server for one task."""

    def __init__(
        self,
        ctx: TaskContext,
        server: Server,
        connections: TaskConnections,
        settings: EngineSettings,
        package: Path,
        package_sha256: str,
    ) -> None:
        self.ctx = ctx
        self.server = server
        self.connections = connections
        self.settings = settings
        self.package = package
        self.sha256 = package_sha256
        self.paths: ReleasePaths = ctx.paths()
        self.uploaded = False

    def work(self, stage: Stage) -> Work | None:
        task = self.ctx.task
        rollback = task.kind == TaskKind.ROLLBACK
        match stage:
            case Stage.UPLOAD:
                return self.upload_if_missing if rollback else self.upload
            case Stage.DEPLOY:
                return self.switch_back if rollback and not self.uploaded else self.deploy
            case Stage.PRE_DEPLOY if task.hook_pre_deploy.strip():
                return lambda out: self.hook(task.hook_pre_deploy, self.paths.codes_dir, out)
            case Stage.POST_DEPLOY if task.hook_post_deploy.strip():
                return lambda out: self.hook(task.hook_post_deploy, self.paths.link, out)
            case Stage.HEALTH:
                check = HealthCheck.from_stored(self.ctx.env.health_check)
                return (lambda out: self.health(check, out)) if check else None
        return None

    async def conn(self) -> Connection:
        return await self.connections.get(self.server)

    async def run(self, script: str, output: NodeOutput, env: dict[str, str] | None = None) -> int:
        conn = await self.conn()
        result = await conn.run(script, env=env, on_line=output.line)
        return result.exit_status

    async def upload(self, output: NodeOutput) -> StepResult:
        if not self.package.is_file() or not self.sha256:
            raise HoistError(
                f"the package of {self.ctx.task.version} is gone from this Hoist machine; "
                "deploy the commit again as a new task"
            )
        conn = await self.conn()
        sent = await conn.upload(self.package, self.paths.archive, sha256=self.sha256)
        output.line(f"sent {sent} bytes, checksum verified on the server")
        self.uploaded = True
        return StepResult(0, {"bytes_sent": sent})

    async def upload_if_missing(self, output: NodeOutput) -> StepResult:
        conn = await self.conn()
        probe = await conn.run(f"test -d {scripts.q(self.paths.release_dir)}")
        if probe.ok:
            output.line(f"{self.ctx.task.version} is still on the server: no upload")
            return StepResult()
        output.line(f"{self.ctx.task.version} is gone from the server: uploading it again")
        return await self.upload(output)

    async def deploy(self, output: NodeOutput) -> StepResult:
        """Unpack and switch; or, when the archive was unpacked by an earlier switch that was
        undone since (a rollout step rolled back, then retried), switch to that release."""
        if not self.uploaded:
            conn = await self.conn()
            archive = await conn.run(f"test -f {scripts.q(self.paths.archive)}")
            unpacked = await conn.run(f"test -d {scripts.q(self.paths.release_dir)}")
            if not archive.ok and unpacked.ok:
                output.line(f"{self.ctx.task.version} is unpacked already: switching to it")
                return await self._switch(scripts.rollback_to(self.paths), output)
        return await self._switch(scripts.unpack_and_switch(self.paths), output)

    async def switch_back(self, output: NodeOutput) -> StepResult:
        return await self._switch(scripts.rollback_to(self.paths), output)

    async def _switch(self, script: str, output: NodeOutput) -> StepResult:
        """Run a switch script; its first line says what the link pointed at before."""
        conn = await self.conn()
        result = await conn.run(script)
        lines = result.output.splitlines()
        previous = None
        if lines and lines[0].startswith(scripts.PREVIOUS):
            previous = lines.pop(0).removeprefix(scripts.PREVIOUS).strip() or None
        for line in lines:
            output.line(line)
        if result.exit_status == 0:
            output.line(f"{self.paths.link} → {self.paths.release_dir}")
        return StepResult(result.exit_status, {"previous_release": previous})

    async def hook(self, script: str, cwd: str, output: NodeOutput) -> StepResult:
        facts = self.ctx.facts(self.server.name)
        status = await self.run(scripts.hook(script, facts, cwd), output)
        return StepResult(status)

    async def health(self, check: HealthCheck, output: NodeOutput) -> StepResult:
        """The environment's health check, until it passes enough times in a row or its
        wait runs out; a command check runs in the live release with the hook facts."""
        facts = self.ctx.facts(self.server.name)

        async def command(script: str, out: NodeOutput) -> int:
            return await self.run(scripts.hook(script, facts, self.paths.link), out)

        return await check_health(
            check,
            address=self.server.address,
            name=self.server.name,
            run_command=command,
            output=output,
        )

    async def cleanup(self, keep: int) -> list[str]:
        """Remove old releases beyond `keep`; never the live one or the one before it."""
        from core.engine.plan import releases_to_remove

        conn = await self.conn()
        listing = await conn.run(scripts.list_releases(self.paths))
        lines = listing.output.splitlines()
        live = lines[0].removeprefix("live ").strip() if lines else ""
        names = [line for line in lines[1:] if line and not line.startswith(".")]
        live_name = live.rstrip("/").rsplit("/", 1)[-1] if live else None
        previous = await self._previous_name()
        doomed = releases_to_remove(names, keep, live_name, previous)
        if doomed:
            await conn.run(scripts.remove_releases(self.paths, doomed))
        return doomed

    async def _previous_name(self) -> str | None:
        node = next((n for n in self.ctx.chain(self.server.name) if n.stage == Stage.DEPLOY), None)
        if node is None or not node.previous_release:
            return None
        return node.previous_release.rstrip("/").rsplit("/", 1)[-1]
