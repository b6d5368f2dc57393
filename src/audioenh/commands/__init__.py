"""Built-in CLI commands, one module each."""
