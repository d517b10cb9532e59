"""Who belongs to the agency: members, invitations, API tokens, the audit log."""
