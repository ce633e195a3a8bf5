"""A buyer's data: export and erasure, asking each owner for its part."""
