"""Migration scripts, oldest first. Add one with ``Store``'s metadata and check it with the tests."""
