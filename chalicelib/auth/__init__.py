"""Accounts and sessions: password hashing, access tokens (JWT), refresh-token families, login limits."""
