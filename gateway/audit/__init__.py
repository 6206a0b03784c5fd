"""The tamper-evident audit log: one hash-chained record per operation (UU 27/2022
accountability)."""
