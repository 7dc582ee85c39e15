"""One module per pipeline stage; each has `run(args) -> exit code` and may have `add_arguments(parser)`."""
