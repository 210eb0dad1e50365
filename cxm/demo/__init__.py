"""Demo workspace: believable users, channels, customers, conversations and survey answers."""
