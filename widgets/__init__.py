"""What shops embed: script, badges, iframe page, public JSON, JSON-LD and feeds. Read-only."""
