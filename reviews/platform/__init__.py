"""What every capability stands on: settings, the database, jobs, clock, errors, logs, tokens, rate
limits, metrics, hashing, HTTP helpers, translations and the audit log. Imports nothing else of
`reviews`."""
