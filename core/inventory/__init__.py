"""The inventory: keys, servers, projects, environments and hook templates."""
