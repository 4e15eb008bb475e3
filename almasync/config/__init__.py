"""Reading the config tree: YAML with positions, settings, and the desired state."""
