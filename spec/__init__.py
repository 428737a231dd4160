"""The TLA+ twin of the model and the code that runs TLC on it (see the open TLA+ issue)."""
