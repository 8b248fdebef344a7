"""The deploy engine: runs a task's pipeline over SSH and publishes what happens."""
