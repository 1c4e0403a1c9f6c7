"""The `mapsvc` commands of the privacy area: the vote retention job (meant for cron)."""

from __future__ import annotations

import click
from flask import current_app


def register(main: click.Group) -> None:
    """Add this area's commands to the `mapsvc` command line."""
    from mapsvc.cli import _friendly

    @main.group()
    def privacy():
        """Personal data: retention of the link between votes and voters."""

    @privacy.command("retention")
    @click.option("--dry-run", is_flag=True, help="Only say what would be unlinked; change nothing.")
    @_friendly
    def retention(dry_run: bool):
        """Drop who voted on layers closed longer than their vote_retention_days (the counts stay)."""
        from mapsvc.services.privacy import apply_retention
        from mapsvc.storage.models import utcnow

        with current_app.extensions["mapsvc.db"].transaction() as session:
            steps = apply_retention(session, utcnow(), dry_run=dry_run)
        if not steps:
            click.echo("No closed layer has a vote retention period (vote_retention_days).")
        for step in steps:
            due = step.due_at.isoformat(timespec="seconds").replace("+00:00", "Z")
            name = f"{step.platform}/{step.layer}"
            if not step.due:
                click.echo(f"{name}: keeps who voted until {due} ({step.retention_days} days after closing).")
            elif dry_run:
                click.echo(f"{name}: would unlink {step.votes_unlinked} vote(s) from their voters (due {due}).")
            else:
                click.echo(f"{name}: unlinked {step.votes_unlinked} vote(s) from their voters (due {due}).")
        total = sum(step.votes_unlinked for step in steps)
        click.echo(f"{'Would unlink' if dry_run else 'Unlinked'} {total} vote(s) in all.")
