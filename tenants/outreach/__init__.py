"""Outreach the agency must log: the opinion box, stakeholder opinion rounds
per team, and return visits to funders."""
