"""The password every test account (and every demo account) signs in with."""

DEMO_PASSWORD = "nexus-demo"
