"""The outbox: work that must happen after a commit (notifications, deliveries), durably."""
