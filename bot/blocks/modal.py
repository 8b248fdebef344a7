"""The `/deploy` modal, its live pickers' options, and the modal that asks why a task is rejected.

The deploy modal is drawn from the form's state so far (`DeployFormView`); inputs whose choice
changes the form dispatch an action, and the listener redraws with `views.update`. Inputs keep
stable ids, so Slack keeps what the user typed across redraws.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bot import texts
from bot.blocks import actions as ids
from bot.blocks.actions import (
    MAX_MODAL_BLOCKS,
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_PLACEHOLDER,
    MAX_TEXT,
    Block,
    context,
    divider,
    option,
    plain,
    section,
)
from bot.blocks.data import CommitOption, DeployFormView, PlanOption, RefOption, TemplateOption

MAX_SCRIPT = 3000
"""Slack's cap on a text input; longer scripts belong in a template."""
_REF_PREFIX = {"branch": "refs/heads/", "tag": "refs/tags/"}
T = TypeVar("T")


def deploy_modal(form: DeployFormView) -> dict[str, Any]:
    """The deploy form for what is chosen so far: later inputs appear as earlier ones are set."""
    if not form.projects:
        return _modal(ids.DEPLOY_CALLBACK, texts.DEPLOY_TITLE, [section(texts.NO_PROJECTS)])
    blocks = [_project(form)]
    if form.project is None:
        blocks.append(context(texts.PICK_PROJECT_FIRST))
    else:
        blocks += _env(form)
        blocks += [_ref(), _commit(), _description()]
    if form.project is not None and form.env is not None:
        blocks += _mode(form)
        for stage in ids.HOOK_STAGES:
            blocks += _hook(form, stage)
        blocks.append(divider())
    if form.project is not None:
        blocks.append(_start_at())
    metadata = json.dumps({"project": form.project, "env": form.env})
    submit = (texts.DEPLOY_SUBMIT, texts.DEPLOY_CLOSE)
    return _modal(ids.DEPLOY_CALLBACK, texts.DEPLOY_TITLE, blocks, submit, metadata)


def reject_modal(task_id: int) -> dict[str, Any]:
    """Asks a reviewer why they reject task `task_id` (required, multiline)."""
    reason = _input(
        ids.REJECT_REASON_BLOCK,
        texts.REJECT_REASON,
        _text_input(ids.REJECT_REASON, texts.REJECT_PLACEHOLDER, multiline=True, max_length=2000),
    )
    reason["element"]["min_length"] = 1
    blocks = [section(texts.reject_prompt(task_id)), reason]
    buttons = (texts.REJECT_SUBMIT, texts.REJECT_CLOSE)
    return _modal(ids.REJECT_CALLBACK, texts.REJECT_TITLE, blocks, buttons, str(task_id))


def options_for_refs(
    branches: Sequence[RefOption], tags: Sequence[RefOption], query: str
) -> dict[str, Any]:
    """The `block_suggestion` answer for the ref picker: branches and tags matching `query`."""
    groups: list[dict[str, Any]] = []
    room = MAX_OPTIONS
    for label, refs in ((texts.BRANCHES, branches), (texts.TAGS, tags)):
        found = [_ref_option(r) for r in _matching(refs, query, lambda r: (r.name,))]
        found = [o for o in found if len(o["value"]) <= MAX_OPTION_VALUE][:room]
        room -= len(found)
        if found:
            groups.append({"label": plain(label, MAX_OPTION_TEXT), "options": found})
    return {"option_groups": groups} if groups else {"options": []}


def options_for_commits(commits: Sequence[CommitOption], query: str) -> dict[str, Any]:
    """The `block_suggestion` answer for the commit picker: commits matching `query`."""
    found = _matching(commits, query, lambda c: (c.sha, c.subject, c.author))
    return {"options": [_commit_option(c) for c in found[:MAX_OPTIONS]]}


def ref_from_value(value: str) -> tuple[str, str]:
    """The (kind, name) a ref option's value stands for: `refs/tags/v1` → (tag, v1)."""
    for kind, prefix in _REF_PREFIX.items():
        if value.startswith(prefix):
            return kind, value.removeprefix(prefix)
    return "", value


# --- Options -----------------------------------------------------------------------------------


def _matching(items: Sequence[T], query: str, keys: Callable[[T], tuple[str, ...]]) -> list[T]:
    """Items with `query` in any key (case-insensitive), those starting with it first."""
    needle = query.strip().lower()
    hits = [i for i in items if any(needle in k.lower() for k in keys(i))]
    return sorted(hits, key=lambda i: not any(k.lower().startswith(needle) for k in keys(i)))


def _ref_option(ref: RefOption) -> dict[str, Any]:
    value = _REF_PREFIX.get(ref.kind, "") + ref.name
    name = texts.clip(ref.name, MAX_OPTION_TEXT - 10)
    return option(texts.ref_option(name, ref.sha), value)


def _commit_option(commit: CommitOption) -> dict[str, Any]:
    return option(texts.commit_option(commit.sha, commit.subject), commit.sha, commit.author)


# --- Deploy form blocks -------------------------------------------------------------------------


def _project(form: DeployFormView) -> Block:
    choices = [option(p, p) for p in form.projects if len(p) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    select = _select(ids.PROJECT, texts.PROJECT_PLACEHOLDER, choices, form.project)
    return _input(ids.PROJECT, texts.PROJECT_LABEL, select, dispatch=True)


def _env(form: DeployFormView) -> list[Block]:
    if not form.envs:
        return [context(texts.env_missing(form.project or ""))]
    choices = [option(e, e) for e in form.envs if len(e) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    select = _select(ids.ENV, texts.ENV_PLACEHOLDER, choices, form.env)
    blocks = [_input(ids.ENV, texts.ENV_LABEL, select, dispatch=True)]
    if form.env is None:
        blocks.append(context(texts.PICK_ENV_FIRST))
    return blocks


def _ref() -> Block:
    element = {
        "type": "external_select",
        "action_id": ids.REF,
        "placeholder": plain(texts.REF_PLACEHOLDER, MAX_PLACEHOLDER),
        "min_query_length": 0,
    }
    return _input(ids.REF, texts.REF_LABEL, element)


def _commit() -> Block:
    element = {
        "type": "external_select",
        "action_id": ids.COMMIT,
        "placeholder": plain(texts.COMMIT_PLACEHOLDER, MAX_PLACEHOLDER),
        "min_query_length": 0,
    }
    return _input(ids.COMMIT, texts.COMMIT_LABEL, element, optional=True, hint=texts.COMMIT_HINT)


def _description() -> Block:
    element = _text_input(ids.DESCRIPTION, texts.DESCRIPTION_PLACEHOLDER, multiline=True)
    return _input(ids.DESCRIPTION, texts.DESCRIPTION_LABEL, element, optional=True)


def _start_at() -> Block:
    element = {"type": "datetimepicker", "action_id": ids.START_AT}
    return _input(ids.START_AT, texts.START_LABEL, element, optional=True, hint=texts.START_HINT)


def _mode(form: DeployFormView) -> list[Block]:
    choices = [option(label, mode) for mode, label in texts.MODE_OPTIONS.items()]
    chosen = next((o for o in choices if o["value"] == form.mode), choices[0])
    radio: dict[str, Any] = {"type": "radio_buttons", "action_id": ids.MODE, "options": choices}
    radio["initial_option"] = chosen
    blocks = [_input(ids.MODE, texts.MODE_LABEL, radio, dispatch=True)]
    if form.mode == "canary":
        blocks.append(_canary(form))
    elif form.plans:
        blocks.append(_plan(form))
    return blocks


def _plan(form: DeployFormView) -> Block:
    """The environment's rollout plans, its default picked; "no plan" only if it has none."""
    plans = [p for p in form.plans if len(p.name) <= MAX_OPTION_VALUE]
    none = [] if form.plan_default else [option(texts.NO_PLAN, ids.NO_PLAN)]
    choices = (none + [_plan_option(p) for p in plans])[:MAX_OPTIONS]
    initial = form.plan or form.plan_default or ids.NO_PLAN
    select = _select(ids.PLAN, texts.PLAN_LABEL, choices, initial)
    return _input(ids.PLAN, texts.PLAN_LABEL, select, hint=texts.PLAN_HINT)


def _plan_option(plan: PlanOption) -> dict[str, Any]:
    return option(texts.clip(plan.name, MAX_OPTION_TEXT), plan.name, plan.text)


def _canary(form: DeployFormView) -> Block:
    servers = [option(s, s) for s in form.servers if len(s) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    if not servers:
        return context(texts.no_servers(form.env or ""))
    element = {
        "type": "multi_static_select",
        "action_id": ids.CANARY_SERVERS,
        "placeholder": plain(texts.CANARY_PLACEHOLDER, MAX_PLACEHOLDER),
        "options": servers,
    }
    return _input(ids.CANARY_SERVERS, texts.CANARY_LABEL, element)


def _hook(form: DeployFormView, stage: str) -> list[Block]:
    """A stage's hook: a template picker, then the chosen template or inputs to type one."""
    templates = [t for t in form.templates if t.stage == stage]
    chosen = next((t for t in templates if t.id == form.chosen_templates.get(stage)), None)
    blocks = [divider(), section(texts.hook_title(stage))]
    if templates:
        blocks.append(_template_picker(form, stage, templates, chosen))
    if chosen is not None:
        preview = texts.code_block(chosen.script, MAX_TEXT - 100)
        blocks.append(section(f"{texts.template_preview(chosen.title)}\n{preview}"))
    elif form.templates_only:
        blocks.append(context(texts.TEMPLATES_ONLY if templates else texts.NO_TEMPLATES))
    else:
        blocks += _typed_hook(stage)
    return blocks


def _template_picker(
    form: DeployFormView, stage: str, templates: list[TemplateOption], chosen: TemplateOption | None
) -> Block:
    typed = [] if form.templates_only else [option(texts.TYPE_A_SCRIPT, ids.TYPED)]
    choices = (typed + [option(t.title, str(t.id)) for t in templates])[:MAX_OPTIONS]
    initial = str(chosen.id) if chosen else (None if form.templates_only else ids.TYPED)
    select = _select(ids.HOOK_TEMPLATE[stage], texts.TEMPLATE_PLACEHOLDER, choices, initial)
    label = texts.TEMPLATE_LABEL
    return _input(ids.HOOK_TEMPLATE[stage], label, select, optional=True, dispatch=True)


def _typed_hook(stage: str) -> list[Block]:
    script = _text_input(
        ids.HOOK_SCRIPT[stage], texts.SCRIPT_PLACEHOLDER, multiline=True, max_length=MAX_SCRIPT
    )
    save = {
        "type": "checkboxes",
        "action_id": ids.HOOK_SAVE[stage],
        "options": [option(texts.SAVE_OPTION, ids.SAVE_AS_TEMPLATE)],
    }
    title = _text_input(ids.HOOK_TITLE[stage], "", max_length=128)
    return [
        _input(ids.HOOK_SCRIPT[stage], texts.SCRIPT_LABEL, script, optional=True),
        _input(ids.HOOK_SAVE[stage], texts.SAVE_LABEL, save, optional=True),
        _input(
            ids.HOOK_TITLE[stage], texts.TITLE_LABEL, title, optional=True, hint=texts.TITLE_HINT
        ),
    ]


# --- Elements ----------------------------------------------------------------------------------


def _modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    buttons: tuple[str, str] | None = None,
    metadata: str = "",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_MODAL_TITLE),
        "blocks": blocks[:MAX_MODAL_BLOCKS],
    }
    if buttons:
        view["submit"] = plain(buttons[0], MAX_MODAL_TITLE)
        view["close"] = plain(buttons[1], MAX_MODAL_TITLE)
    if metadata:
        view["private_metadata"] = metadata
    return view


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    dispatch: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label, 2000)}
    block["element"] = element
    block["optional"] = optional
    if dispatch:
        block["dispatch_action"] = True
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _select(
    action_id: str, placeholder: str, choices: list[dict[str, Any]], initial: str | None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain(placeholder, MAX_PLACEHOLDER),
        "options": choices,
    }
    chosen = next((o for o in choices if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _text_input(
    action_id: str, placeholder: str, *, multiline: bool = False, max_length: int = MAX_TEXT
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if placeholder:
        element["placeholder"] = plain(placeholder, MAX_PLACEHOLDER)
    return element
