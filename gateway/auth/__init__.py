"""Who may see what: tokens, principals, field-level authorization, purpose and masking."""
