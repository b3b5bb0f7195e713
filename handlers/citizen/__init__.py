"""What citizens do: consent and the menu, rating, reporting, following a report, commending,
and their own data."""
