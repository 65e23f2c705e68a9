"""Training tasks, one module per architecture (named by the config's model.arch)."""
