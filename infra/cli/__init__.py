"""``botctl``: the command line of the project."""
