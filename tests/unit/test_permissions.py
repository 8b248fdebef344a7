from core.permissions import Action, Rules, allowed, refusal


def test_anyone_deploys_when_no_deployers_are_named():
    rules = Rules.of([], ["U2"])
    assert allowed(rules, Action.DEPLOY, "U9")
    assert allowed(rules, Action.ROLLBACK, "U9")


def test_named_deployers_only_and_an_empty_group_is_nobody():
    rules = Rules.of(["U1"], ["U2"])
    assert allowed(rules, Action.DEPLOY, "U1") and not allowed(rules, Action.DEPLOY, "U9")
    empty_group = Rules(frozenset(), frozenset(), anyone_deploys=False)
    assert not allowed(empty_group, Action.DEPLOY, "U1")


def test_reviewers_approve_but_never_their_own_task():
    rules = Rules.of([], ["U1", "U2"])
    assert allowed(rules, Action.APPROVE, "U2", requester="U1")
    assert not allowed(rules, Action.APPROVE, "U1", requester="U1")
    assert not allowed(rules, Action.APPROVE, "U3", requester="U1")
    assert "cannot approve" in refusal(Action.APPROVE, "U1", rules, requester="U1")


def test_requesters_may_cancel_their_own_task():
    rules = Rules.of(["U1"], [])
    assert allowed(rules, Action.CANCEL, "U7", requester="U7")
    assert not allowed(rules, Action.CANCEL, "U8", requester="U7")
