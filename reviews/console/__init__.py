"""The consoles under /console: moderators' (and, later, merchants'), with their sign-in and sessions."""
