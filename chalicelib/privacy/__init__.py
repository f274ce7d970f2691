"""Privacy by default: consent on every upload, retention of source videos, export and erasure of an account.

No Chalice here: app.py wires the routes and the schedule; the modules take the clients (`Deps`) they use.
"""
