"""Routers by domain: pages (auth, exercises, quiz, dashboard, docs) and the JSON API."""
