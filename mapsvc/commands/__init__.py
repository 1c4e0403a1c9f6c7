"""Command-line groups of mapsvc, one module per area; each module's register(main) adds its commands."""

AREAS = ("oidc", "privacy", "mail", "following")
