"""Screening reviews: the scan job (embed, look for duplicates and campaigns, publish or hold),
flags (the only writer of `flags`), rescans and reindexing. The vectors themselves are written
by `embedding.store`, which only screening calls."""
