"""Training: courses, sessions, attendance, evaluations, transcripts and compliance."""
