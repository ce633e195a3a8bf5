"""Moderators' decisions on flagged reviews."""
