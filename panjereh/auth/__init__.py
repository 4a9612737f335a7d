"""Users, roles, password hashing and access tokens."""
