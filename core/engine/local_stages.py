"""The stages that run once per task on the Hoist machine: start, download hooks, package."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from core.engine.context import TaskContext
from core.engine.local_hooks import run_local_hook
from core.engine.output import NodeOutput
from core.engine.payloads import write_manifest
from core.engine.requests import git_auth
from core.engine.settings import EngineSettings
from core.engine.steps import StepResult, Work
from core.errors import NotFoundError
from core.secrets import SecretBox
from core.source.git import GitSource
from core.source.package import build_archive
from core.status import Stage
from core.store.models import DeployTask


class LocalStages:
    """Builds the work of each local node of one task."""

    def __init__(
        self, ctx: TaskContext, settings: EngineSettings, git: GitSource, box: SecretBox
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.git = git
        self.box = box
        self.workspace = settings.workspace(ctx.task.id)
        self.source = self.workspace / "src"

    def work(self, stage: Stage) -> Work | None:
        """The work of `stage`, or None when there is nothing to run (an empty hook)."""
        task = self.ctx.task
        match stage:
            case Stage.START:
                return self.start
            case Stage.DOWNLOAD:
                return self.download
            case Stage.PACKAGE:
                return self.package
            case Stage.PRE_DOWNLOAD if task.hook_pre_download.strip():
                return lambda out: self.hook(task.hook_pre_download, self.workspace, out)
            case Stage.POST_DOWNLOAD if task.hook_post_download.strip():
                return lambda out: self.hook(task.hook_post_download, self.source, out)
        return None

    async def start(self, output: NodeOutput) -> StepResult:
        task = self.ctx.task
        output.line(f"{self.ctx.label} {task.version}: {task.ref} at {task.commit_sha}")
        output.line(f"servers: {', '.join(self.ctx.server_names())}")
        shutil.rmtree(self.workspace, ignore_errors=True)
        self.workspace.mkdir(parents=True)
        return StepResult()

    async def hook(self, script: str, cwd: Path, output: NodeOutput) -> StepResult:
        cwd.mkdir(parents=True, exist_ok=True)
        facts = self.ctx.facts() | {"HOIST_WORKSPACE": str(self.source)}
        status = await run_local_hook(
            script,
            cwd=cwd,
            facts=facts,
            output=output,
            timeout=self.settings.hook_timeout,
            hidden=self.settings.hidden_files,
        )
        return StepResult(status)

    @property
    def straight_from_git(self) -> bool:
        """No post-download hook changes the tree: package the commit from the mirror."""
        return not self.ctx.task.hook_post_download.strip()

    async def download(self, output: NodeOutput) -> StepResult:
        project, sha = self.ctx.project, self.ctx.task.commit_sha
        await project.fetch_related("git_key")
        auth = git_auth(project, self.box)
        await self.git.ensure_mirror(project.slug, project.repo_url, auth, fetch=False)
        if self.straight_from_git:
            try:
                await self.git.resolve(project.slug, sha)
            except NotFoundError:
                output.line("commit not in the mirror yet: fetching")
                await self.git.ensure_mirror(project.slug, project.repo_url, auth, fetch=True)
                await self.git.resolve(project.slug, sha)
            output.line(f"{sha} is in the mirror; it is packaged from there")
            return StepResult()
        shutil.rmtree(self.source, ignore_errors=True)
        self.source.mkdir(parents=True)
        try:
            await self.git.checkout(project.slug, sha, self.source)
        except NotFoundError:
            output.line("commit not in the mirror yet: fetching")
            await self.git.ensure_mirror(project.slug, project.repo_url, auth, fetch=True)
            await self.git.checkout(project.slug, sha, self.source)
        output.line(f"checked out {sha} into the workspace")
        return StepResult()

    async def package(self, output: NodeOutput) -> StepResult:
        task = self.ctx.task
        dest = self.settings.package_path(task.id)
        if self.straight_from_git:
            archive = await self.git.archive(self.ctx.project.slug, task.commit_sha, dest)
        else:
            archive = await build_archive(self.source, dest)
        await asyncio.to_thread(write_manifest, self.settings, task.id, archive.manifest)
        await DeployTask.filter(id=task.id).update(
            package_sha256=archive.sha256, package_size=archive.size, package_files=archive.files
        )
        task.package_sha256, task.package_size = archive.sha256, archive.size
        task.package_files = archive.files
        output.line(f"{archive.files} files, {archive.size} bytes, sha256 {archive.sha256}")
        shutil.rmtree(self.workspace, ignore_errors=True)
        return StepResult()
