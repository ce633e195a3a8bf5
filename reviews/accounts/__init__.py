"""Who may sign in to /console and as what: users, their roles and memberships, their sessions and
sign-in links, and the rules for managing them (`attest user`, a shop's team page)."""
