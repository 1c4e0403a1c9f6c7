"""The words of each area of the interface, one module per area, merged by mapsvc.web.ui_text."""

AREAS = ("map", "moderation", "account", "oidc", "access", "following", "news", "pages", "dashboards")
