"""Training recipes for stipplr's networks: data making, tasks, the generic loop, export."""
