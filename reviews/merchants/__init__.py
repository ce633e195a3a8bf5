"""Merchants: the typed merchant (`model`), the table (`store`), settings and their rules,
API keys, and branding (accent colour and contrast, once)."""
