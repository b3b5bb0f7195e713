"""Conversations and rules, channel-blind: an Incoming in, Replies and domain writes out."""
