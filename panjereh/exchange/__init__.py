"""The exchange with agencies' own systems: push and pull, machine credentials, signatures."""
