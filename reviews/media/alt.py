"""A photo's alt text: its caption when the author wrote one, else whose photo of what it is
("Photo by Anna K. of Trail shoes"). Every surface that shows a photo uses these words, each in its
own catalog (the buyer's pages, the console, the widgets) under the same message ids."""

from __future__ import annotations

from collections.abc import Callable

BY = "Photo by %(name)s of %(subject)s"
OF = "Photo of %(subject)s"


def alt_text(gettext: Callable[[str], str], *, caption: str, display_name: str, subject: str) -> str:
    """`subject` is the product's name, or the shop's for a review of the shop."""
    if caption.strip():
        return caption.strip()
    if display_name.strip():
        return gettext(BY) % {"name": display_name.strip(), "subject": subject}
    return gettext(OF) % {"subject": subject}
