"""Runtime: settings, CLI, the turn engine, channel adapters, the outbox dispatcher."""
