"""Payment processors, each a plugin of the entry-point group ``entrygate.processors``: sandbox, stripe."""
