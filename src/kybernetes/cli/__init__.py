"""The kybernetes command line: `kyb` and its subcommands."""
