"""Staff files: qualifications, recruitment, caseload, reviews and who may be assigned."""
