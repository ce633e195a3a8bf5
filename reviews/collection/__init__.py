"""Reviews: the state machine (`store`, the only writer of reviews), the display-name rule, and
importing reviews collected elsewhere."""
