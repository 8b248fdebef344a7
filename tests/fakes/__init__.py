"""Stand-ins for the outside world that tests run for real: SSH servers, Slack, git remotes."""
