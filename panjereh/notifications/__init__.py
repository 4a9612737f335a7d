"""Notifications: the in-app inbox, email and webhooks, all sent through outbox jobs."""
