"""Platform business: plans, subscriptions (Stripe or manual invoicing), the
agency billing life cycle, data exports, purges and operator impersonation."""
