"""Embeddings: the sentence-transformers model, vector storage and search, duplicate detection."""
