"""Training recipes for stipplr's networks (a checkout-only developer tool; see README.md)."""
