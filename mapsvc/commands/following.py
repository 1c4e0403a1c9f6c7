"""The `mapsvc` commands of the following area: the weekly digest."""

from __future__ import annotations

import click
from flask import current_app


def register(main: click.Group) -> None:
    """Add this area's commands to the `mapsvc` command line."""
    from mapsvc.cli import _friendly

    @main.group()
    def following():
        """Updates to residents who follow platforms, themes, layers or pins."""

    @following.command("digest")
    @click.option("--dry-run", is_flag=True, help="Only count what each digest would hold; queue and change nothing.")
    @_friendly
    def digest(dry_run: bool):
        """Queue this week's digest for every resident who opted in (run weekly from cron; `mapsvc mail send` sends)."""
        from mapsvc.services.digest import send_digests
        from mapsvc.storage.models import utcnow

        database = current_app.extensions["mapsvc.db"]
        with database.transaction() as session:
            results = send_digests(session, now=utcnow(), dry_run=dry_run)
            if dry_run:
                session.rollback()  # nothing to keep, whatever the service touched
        with_news = [r for r in results if r.new or r.changed]
        for result in with_news:
            state = "would be queued" if dry_run else ("queued" if result.queued else "already sent this week")
            click.echo(f"user {result.user_id}: {result.new} new pin(s), {result.changed} status change(s) – {state}")
        queued = sum(r.queued for r in results)
        click.echo(f"{len(results)} resident(s) opted in, {len(with_news)} with news"
                   + ("; dry run: nothing queued." if dry_run else f"; {queued} digest(s) queued."))
