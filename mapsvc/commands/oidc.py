"""The `mapsvc oidc` commands: set, list and remove the OpenID Connect providers (government login)."""

from __future__ import annotations

import click
from flask import current_app


def register(main: click.Group) -> None:
    """Add this area's commands to the `mapsvc` command line."""
    from mapsvc.cli import _friendly

    @main.group()
    def oidc():
        """Log in with OpenID Connect (e.g. the Flemish government login), per platform or for the instance."""

    @oidc.command("set")
    @click.option("--issuer", required=True, help="The provider's issuer URL; discovery reads "
                  "{issuer}/.well-known/openid-configuration.")
    @click.option("--client-id", required=True, help="The client id the provider registered for this service.")
    @click.option("--client-secret", help="The client secret (leave out for a public client that uses PKCE only).")
    @click.option("--platform", help="Platform slug; without it the provider serves the whole instance.")
    @click.option("--label", help="Name on the login button (\"Inloggen met <label>\"); default: the issuer's host.")
    @click.option("--check/--no-check", default=True, show_default=True,
                  help="Read the provider's discovery document first, to catch a wrong issuer URL.")
    @_friendly
    def oidc_set(issuer, client_id, client_secret, platform, label, check):
        """Configure the provider of the instance or of one platform (replaces the earlier one)."""
        from mapsvc.services import oidc as service
        from mapsvc.services.oidc_protocol import MetadataCache, check_issuer_url

        if check:
            metadata = MetadataCache().metadata(check_issuer_url(issuer))
            click.echo(f"Found the provider: authorization at {metadata['authorization_endpoint']}.")
        with current_app.extensions["mapsvc.db"].transaction() as session:
            row = service.set_provider(session, issuer, client_id, client_secret, platform_slug=platform,
                                       label=label)
            label = row.label
        where = f"platform {platform}" if platform else "the whole instance"
        click.echo(f"Login with {label!r} ({issuer}) is set up for {where}. Register this redirect URI at the "
                   "provider: https://<this host>/login/oidc/callback")

    @oidc.command("list")
    @_friendly
    def oidc_list():
        """Show the configured providers (never the secrets)."""
        from mapsvc.services import oidc as service

        with current_app.extensions["mapsvc.db"].sessions() as session:
            rows = service.list_providers(session)
        settings = current_app.config["MAPSVC"]
        if settings.get("OIDC_ISSUER") and not any(slug is None for slug, _ in rows):
            click.echo(f"instance (MAPSVC_OIDC_ISSUER)\t{settings.get('OIDC_LABEL') or '-'}\t"
                       f"{settings['OIDC_ISSUER']}\tclient {settings.get('OIDC_CLIENT_ID')}")
        for slug, row in rows:
            secret = "with secret" if row.client_secret else "public client"
            click.echo(f"{'platform ' + slug if slug else 'instance'}\t{row.label}\t{row.issuer}\t"
                       f"client {row.client_id} ({secret})")
        if not rows and not settings.get("OIDC_ISSUER"):
            click.echo("No OpenID Connect provider is configured.")

    @oidc.command("remove")
    @click.option("--platform", help="Platform slug; without it the instance's provider is removed.")
    @_friendly
    def oidc_remove(platform):
        """Remove a provider; accounts made with it stay (their people cannot log in with it any more)."""
        from mapsvc.services import oidc as service

        with current_app.extensions["mapsvc.db"].transaction() as session:
            row = service.remove_provider(session, platform)
            label = row.label
        click.echo(f"Removed the login with {label!r} for {'platform ' + platform if platform else 'the instance'}.")
