"""The language of a review that arrives without one (most exports): the review page and the
widgets pick reviews by it.

py3langid ships its model inside the wheel, so this works offline. It chooses only among the
languages Attest speaks, and answers only when it is sure: "Top" or "Meh" could be anything, and
then the caller's fallback (the shop's own language) is the better guess.
"""

from __future__ import annotations

import functools

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from reviews.platform.settings import SUPPORTED_LOCALES

# Normalised probability over the supported languages; clear texts score above 0.99, two-word
# ones in no particular language well below.
CONFIDENT = 0.9


@functools.cache
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED_LOCALES))
    return identifier


def detect(text: str) -> str | None:
    """The text's language among the supported ones, or None when it cannot tell."""
    if len(text.strip()) < 3:
        return None
    lang, probability = _identifier().classify(text)
    return str(lang) if probability >= CONFIDENT else None
