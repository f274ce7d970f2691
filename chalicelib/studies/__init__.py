"""Audience studies: content, viewer sessions, invites and the audience curve."""
