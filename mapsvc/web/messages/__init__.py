"""The words of each area of the interface, one module per area, merged by mapsvc.web.ui_text."""

AREAS = ("moderation", "account", "oidc", "access", "following", "news")
