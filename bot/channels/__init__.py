"""Channel adapters: each turns platform updates into Incoming and Replies into platform calls."""
