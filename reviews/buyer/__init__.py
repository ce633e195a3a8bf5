"""What buyers see: the review page and form, unsubscribe, the verification page, with their
templates, static files and the "pages" catalog. Writes no table directly."""
