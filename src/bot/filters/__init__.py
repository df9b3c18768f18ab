"""Filters shared by routers (roles and the like)."""
