"""The notification centre: reminders sent exactly once, the in-app list with
its unread count, email (at once, after quiet hours, or in a daily digest),
and each member's preferences.

- `kinds`: what can be notified (`Kind`, `KINDS`, `register`).
- `reminders`: `Due` occurrences and `send_due`, the one way to notify.
- `models`: the tables (`reminders`, `notifications`,
  `notification_preferences`, `notification_settings`).
- `delivery`: email after quiet hours and the daily digest (sweeps).
- the reminder kinds themselves live in the areas (`tenants/<area>/reminders.py`).
- `views`: `/a/<slug>/notifications` and its preferences page.
"""
