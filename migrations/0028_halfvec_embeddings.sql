-- The stored vectors in half precision (pgvector's halfvec), as the HNSW graphs already held them.
-- In single precision a 512-dimension vector (2,052 bytes) is over PostgreSQL's in-row limit, so
-- every multilingual vector lived in the TOAST table: each of a check's 60 neighbours cost a second
-- index lookup and heap fetch, once per use in the query. In half precision both channels' vectors
-- fit in their row (776 and 1,032 bytes) and the table is half the size. The graphs already order
-- by the half-precision vector, so the candidates a search finds are unchanged; similarities read
-- back differ from single precision by about 1e-4.
-- The per-model HNSW indexes are rebuilt by the type change (on a large table that takes as long as
-- `attest reindex`: raise maintenance_work_mem for it, see docs/scaling.md).
ALTER TABLE review_embeddings ALTER COLUMN embedding TYPE halfvec USING embedding::halfvec;
