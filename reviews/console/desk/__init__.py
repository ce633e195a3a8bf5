"""The moderators' desk: the queue's tabs, one review's file with its evidence, decisions one by
one or in bulk. Pages only: reading is `reviews.moderation.queue`, deciding
`reviews.moderation.decisions`, claiming `reviews.moderation.claims`."""
