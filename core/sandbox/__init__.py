"""Local stand-ins for what Hoist talks to: SSH hosts on loopback for the demo and tests."""
