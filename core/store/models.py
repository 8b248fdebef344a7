"""The objects Hoist keeps, as Tortoise models.

History is never deleted by a cascade: tasks, stage runs and audit events point at the inventory
with RESTRICT, so the database itself refuses to erase a server, environment or key that a past
task used; the inventory service disables those instead.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.status import Decision, DeployMode, HookStage, NodeStatus, Stage, TaskKind, TaskStatus


class Meta(Model):
    """Small key/value facts about this database (e.g. a check value for the secret)."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.TextField()

    class Meta:
        table = "hoist_meta"


class SSHKey(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    user = fields.CharField(max_length=64)
    private_key_encrypted = fields.TextField()
    public_key = fields.TextField()
    fingerprint = fields.CharField(max_length=128)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    servers: fields.ReverseRelation[Server]

    class Meta:
        table = "ssh_key"


class Server(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, unique=True)
    address = fields.CharField(max_length=255)
    port = fields.IntField(default=22)
    key: fields.ForeignKeyRelation[SSHKey] = fields.ForeignKeyField(
        "hoist.SSHKey", related_name="servers", on_delete=fields.RESTRICT
    )
    host_key = fields.TextField(null=True)
    jump: fields.ForeignKeyNullableRelation[Server] = fields.ForeignKeyField(
        "hoist.Server", related_name="jumped", null=True, on_delete=fields.RESTRICT
    )
    labels: Any = fields.JSONField(default=list)
    owner = fields.CharField(max_length=128, null=True)
    team = fields.CharField(max_length=128, null=True)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    key_id: int
    jump_id: int | None
    environments: fields.ManyToManyRelation[Environment]

    class Meta:
        table = "server"


class Project(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    repo_url = fields.CharField(max_length=1024)
    default_branch = fields.CharField(max_length=255, default="main")
    keep_releases = fields.IntField(default=5)
    channel = fields.CharField(max_length=128, null=True)
    digest_cron = fields.CharField(max_length=128, null=True)
    """When to post the release digest (crontab: minute hour day month weekday)."""
    digest_timezone = fields.CharField(max_length=64, default="UTC")
    git_key: fields.ForeignKeyNullableRelation[SSHKey] = fields.ForeignKeyField(
        "hoist.SSHKey", related_name="git_projects", null=True, on_delete=fields.RESTRICT
    )
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    git_key_id: int | None
    environments: fields.ReverseRelation[Environment]

    class Meta:
        table = "project"


class Environment(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "hoist.Project", related_name="environments", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=64)
    deploy_path = fields.CharField(max_length=1024)
    codes_root = fields.CharField(max_length=1024, default="/data/codes")
    servers: fields.ManyToManyRelation[Server] = fields.ManyToManyField(
        "hoist.Server", related_name="environments", through="environment_server"
    )
    deployers: Any = fields.JSONField(default=list)
    reviewers: Any = fields.JSONField(default=list)
    approvals_required = fields.IntField(default=0)
    batch_size = fields.IntField(default=0)
    templates_only = fields.BooleanField(default=False)
    # How a server is judged healthy after its post-deploy hook (see core/health/spec.py).
    health_check: Any = fields.JSONField(null=True)
    # Named rollout plans, e.g. {"careful": "1 wait, 10%, 50% 10m, 100%"}.
    rollout_plans: Any = fields.JSONField(default=dict)
    rollout_default = fields.CharField(max_length=64, null=True)
    max_failed = fields.IntField(default=0)
    """Failed servers a rollout step may have before the task pauses itself."""
    auto_rollback = fields.BooleanField(default=False)
    """On a failed step, put this task's switched servers back where they were."""
    pause_reminder = fields.IntField(default=1800)
    """Seconds a pause may wait for a person before the channel is reminded (0: never)."""
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    project_id: int
    tasks: fields.ReverseRelation[DeployTask]

    class Meta:
        table = "environment"
        unique_together = (("project", "name"),)


class HookTemplate(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=128, unique=True)
    stage = fields.CharEnumField(HookStage, max_length=32)
    script = fields.TextField()
    created_by = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hook_template"


class DeployTask(Model):
    id = fields.IntField(primary_key=True)
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="tasks", on_delete=fields.RESTRICT
    )
    number = fields.IntField()
    kind = fields.CharEnumField(TaskKind, max_length=16, default=TaskKind.DEPLOY)
    version = fields.CharField(max_length=255)
    ref = fields.CharField(max_length=255)
    commit_sha = fields.CharField(max_length=64)
    commit_subject = fields.CharField(max_length=512, default="")
    mode = fields.CharEnumField(DeployMode, max_length=16, default=DeployMode.FULL)
    canary_servers: Any = fields.JSONField(default=list)
    hook_pre_download = fields.TextField(default="")
    hook_post_download = fields.TextField(default="")
    hook_pre_deploy = fields.TextField(default="")
    hook_post_deploy = fields.TextField(default="")
    hook_sources: Any = fields.JSONField(default=dict)
    note = fields.TextField(default="")
    requester = fields.CharField(max_length=128)
    via = fields.CharField(max_length=16, default="cli")
    status = fields.CharEnumField(TaskStatus, max_length=32)
    scheduled_at = fields.DatetimeField(null=True)
    announced_at = fields.DatetimeField(null=True)
    """When the channel was told this task is scheduled (set once, by whoever claims it)."""
    reminded_at = fields.DatetimeField(null=True)
    """When the channel was reminded of this scheduled task (set once, by whoever claims it)."""
    reason = fields.TextField(default="")
    """Why the task ended as it did, when that is not its nodes' doing (missed, interrupted)."""
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    rollback_to = fields.CharField(max_length=255, null=True)
    package_sha256 = fields.CharField(max_length=64, default="")
    package_size = fields.BigIntField(default=0)
    package_files = fields.IntField(default=0)
    slack_channel = fields.CharField(max_length=64, null=True)
    slack_ts = fields.CharField(max_length=64, null=True)
    lease_owner = fields.CharField(max_length=128, null=True)
    lease_until = fields.DatetimeField(null=True)
    plan_name = fields.CharField(max_length=64, default="")
    # The rollout, resolved at creation: [{"servers": [...], "pause": null|"wait"|seconds}].
    plan_steps: Any = fields.JSONField(default=list)
    step = fields.IntField(default=0)
    """The rollout step that runs next."""
    paused_at = fields.DatetimeField(null=True)
    resume_at = fields.DatetimeField(null=True)
    """When a timed pause ends by itself; null while paused means someone must continue."""
    pause_reminded_at = fields.DatetimeField(null=True)

    environment_id: int
    approvals: fields.ReverseRelation[Approval]
    stage_runs: fields.ReverseRelation[StageRun]

    class Meta:
        table = "deploy_task"
        unique_together = (("environment", "number"),)


class Approval(Model):
    id = fields.IntField(primary_key=True)
    task: fields.ForeignKeyRelation[DeployTask] = fields.ForeignKeyField(
        "hoist.DeployTask", related_name="approvals", on_delete=fields.RESTRICT
    )
    reviewer = fields.CharField(max_length=128)
    decision = fields.CharEnumField(Decision, max_length=16)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    task_id: int

    class Meta:
        table = "approval"
        unique_together = (("task", "reviewer"),)


class StageRun(Model):
    id = fields.IntField(primary_key=True)
    task: fields.ForeignKeyRelation[DeployTask] = fields.ForeignKeyField(
        "hoist.DeployTask", related_name="stage_runs", on_delete=fields.RESTRICT
    )
    stage = fields.CharEnumField(Stage, max_length=32)
    server: fields.ForeignKeyNullableRelation[Server] = fields.ForeignKeyField(
        "hoist.Server", related_name="stage_runs", null=True, on_delete=fields.RESTRICT
    )
    server_name = fields.CharField(max_length=255, default="")
    batch = fields.IntField(default=0)
    status = fields.CharEnumField(NodeStatus, max_length=16, default=NodeStatus.PENDING)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    exit_status = fields.IntField(null=True)
    output = fields.TextField(default="")
    error = fields.TextField(default="")
    previous_release = fields.CharField(max_length=1024, null=True)
    bytes_sent = fields.BigIntField(default=0)
    files_sent = fields.IntField(default=0)
    transfer = fields.CharField(max_length=8, default="")
    # How an upload sent the release: "delta" (changed files only), "full" or "none".
    transfer_note = fields.CharField(max_length=255, default="")
    # Why an upload sent the whole release.

    task_id: int
    server_id: int | None

    class Meta:
        table = "stage_run"
        unique_together = (("task", "stage", "server_name"),)


class EnvironmentLock(Model):
    """Someone holds an environment: no deploy starts there until it is unlocked or expires."""

    id = fields.IntField(primary_key=True)
    environment: fields.OneToOneRelation[Environment] = fields.OneToOneField(
        "hoist.Environment", related_name="lock", on_delete=fields.CASCADE
    )
    holder = fields.CharField(max_length=128)
    reason = fields.TextField(default="")
    until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    waiting: Any = fields.JSONField(default=list)
    """Who asked to deploy while it was locked, to tell them when it frees up."""

    environment_id: int

    class Meta:
        table = "environment_lock"


class DigestRun(Model):
    """A release digest that was posted: claimed by inserting this row, so it is posted once
    even when several bot processes fire the same schedule."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "hoist.Project", related_name="digests", on_delete=fields.CASCADE
    )
    due_at = fields.DatetimeField()
    owner = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    project_id: int

    class Meta:
        table = "digest_run"
        unique_together = (("project", "due_at"),)


class AuditEvent(Model):
    """Append-only record of who changed what, from where."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=128)
    via = fields.CharField(max_length=16)
    action = fields.CharField(max_length=64)
    target = fields.CharField(max_length=255)
    details: Any = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
