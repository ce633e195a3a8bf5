-- A review may carry vectors of several models, one per channel the detector reads: the main
-- model (same-language paraphrases) and a multilingual one (translations). Each channel has its
-- own active model, so `attest reindex` switches one without touching the other.
ALTER TABLE embedding_models ADD COLUMN channel text NOT NULL DEFAULT 'main'
    CHECK (channel IN ('main', 'multilingual'));
DROP INDEX embedding_models_one_active;
CREATE UNIQUE INDEX embedding_models_one_active ON embedding_models (channel) WHERE state = 'active';
