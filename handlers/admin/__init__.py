"""What leaders and administrators do: summaries and exports, their officers, announcements,
and the retention policy the scheduler applies."""
