"""Getting a project's code: git mirrors, checkouts and the release archive."""
