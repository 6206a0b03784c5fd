"""Per-application rate limits: in memory, or in Redis shared by gateway replicas."""
