"""Invitations: whether and when to invite a buyer (`policy`, `scheduling`), the invitations and
suppressions tables (`store`, `suppressions`), the signed links (`links`) and the SMTP pipeline
(`sending`)."""
