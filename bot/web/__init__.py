"""The live release page: signed links to a task's diagram, its logs and their downloads."""
