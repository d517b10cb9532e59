"""Sign-in, sessions, two-factor, invitations, password resets, API tokens."""
