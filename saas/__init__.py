"""The platform core: app factory, tenancy, auth, operator console, jobs, mail."""
