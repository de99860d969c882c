"""The format-agnostic split protocol: byte ranges, tasks, first-boundary search, verification."""
