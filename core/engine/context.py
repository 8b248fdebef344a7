"""Everything one run of a task needs, loaded once from the database."""

from __future__ import annotations

from dataclasses import dataclass

from core.engine.plan import LOCAL, NodeKey, ReleasePaths
from core.status import DeployMode, NodeStatus, Stage
from core.store.models import DeployTask, Environment, Project, Server, StageRun


@dataclass
class TaskContext:
    task: DeployTask
    env: Environment
    project: Project
    servers: dict[str, Server]
    nodes: dict[NodeKey, StageRun]

    @classmethod
    async def load(cls, task_id: int) -> TaskContext:
        task = await DeployTask.get(id=task_id).prefetch_related(
            "environment", "environment__project"
        )
        env = task.environment
        nodes = await StageRun.filter(task=task).order_by("id").prefetch_related("server")
        servers = {n.server_name: n.server for n in nodes if n.server is not None}
        keyed = {NodeKey(Stage(n.stage), n.server_name): n for n in nodes}
        return cls(task, env, env.project, servers, keyed)

    @property
    def label(self) -> str:
        return f"{self.project.slug}/{self.env.name}"

    def paths(self, version: str | None = None) -> ReleasePaths:
        return ReleasePaths.of(
            self.env.codes_root,
            self.env.deploy_path,
            self.project.slug,
            self.env.name,
            version or self.task.version,
        )

    def server_names(self) -> list[str]:
        """Servers of this task in plan order."""
        return list(dict.fromkeys(k.server for k in self.nodes if k.server != LOCAL))

    def chain(self, server: str) -> list[StageRun]:
        return [n for k, n in self.nodes.items() if k.server == server]

    def pending(self, server: str) -> bool:
        return any(n.status == NodeStatus.PENDING for n in self.chain(server))

    def promoted(self) -> bool:
        """A canary task was promoted once its non-canary servers have started."""
        if self.task.mode != DeployMode.CANARY:
            return True
        canary = set(self.task.canary_servers)
        return any(
            n.status != NodeStatus.PENDING
            for k, n in self.nodes.items()
            if k.server not in canary and k.server != LOCAL
        )

    def facts(self, server: str = "") -> dict[str, str]:
        """The task's facts for hooks, as environment variables."""
        paths = self.paths()
        facts = {
            "HOIST_TASK_ID": str(self.task.id),
            "HOIST_PROJECT": self.project.slug,
            "HOIST_ENV": self.env.name,
            "HOIST_VERSION": self.task.version,
            "HOIST_REF": self.task.ref,
            "HOIST_COMMIT": self.task.commit_sha,
            "HOIST_REQUESTER": self.task.requester,
            "HOIST_RELEASE_DIR": paths.release_dir,
            "HOIST_DEPLOY_LINK": paths.link,
        }
        if server:
            facts["HOIST_SERVER"] = server
        return facts
