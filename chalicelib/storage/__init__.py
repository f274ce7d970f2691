"""MongoDB repositories: each takes a `pymongo` database handle and owns one collection."""
