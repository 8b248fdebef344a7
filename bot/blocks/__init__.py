"""Block Kit builders: pure functions from view data to Slack payloads."""
