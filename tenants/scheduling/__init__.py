"""Visits: generation, assignment, the carer's schedule, check-in and out."""
