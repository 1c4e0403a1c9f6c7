"""The `mapsvc` command line: database, sample content, imports, the simulator and the server."""

from __future__ import annotations

import functools
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from mapsvc.errors import MapsvcError


def _create_app():
    from mapsvc.app import create_app

    return create_app()


def _database():
    return current_app.extensions["mapsvc.db"]


def _friendly(command):
    """Turn mapsvc's errors into a clear message and exit status 1, with no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except MapsvcError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            for problem in exc.details.get("problems", []):
                field = f" [{problem['field']}]" if problem.get("field") else ""
                click.echo(f"  {problem['row']}{field}: {problem['message']}", err=True)
            more = exc.details.get("rows_with_problems", 0) - len({p["row"] for p in exc.details.get("problems", [])})
            if more > 0:
                click.echo(f"  … and {more} more row(s) with problems.", err=True)
            sys.exit(1)

    return wrapper


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """mapsvc: map layers for citizen participation (MAPSVC_DATABASE_URL picks the database)."""


@main.group()
def db():
    """Create or upgrade the database schema."""


@db.command("upgrade")
@_friendly
def db_upgrade():
    """Bring the schema to the newest revision (Alembic)."""
    from mapsvc.storage import migrate

    database = _database()
    database.upgrade()
    click.echo(f"Database at revision {migrate.current_revision(database.engine)} "
               f"({database.engine.dialect.name}).")


@main.command("load-sample")
@click.option("--replace", is_flag=True, help="Delete the sample platforms first and load them again.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the participation simulator.")
@_friendly
def load_sample(replace: bool, seed: int):
    """Load the four sample platforms: real boundaries and OSM data, plus labelled demo suggestions."""
    from mapsvc.services.sample import load_sample as load

    with _database().transaction() as session:
        created = load(session, current_app.config["MAPSVC"]["DATA_DIR"], base_seed=seed, replace=replace,
                       report=click.echo)
    click.echo(f"Loaded {len(created)} sample platform(s).")


@main.command("import")
@click.argument("platform")
@click.argument("layer")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--crs", help="CRS of coordinates when the file declares none, e.g. EPSG:31370.")
@click.option("--source-layer", help="Layer inside a GeoPackage that holds several.")
@click.option("--demo", is_flag=True, help="Mark the imported rows as demo data.")
@click.option("--source", help="Where the data comes from (shown with every feature).")
@_friendly
def import_(platform: str, layer: str, file: str, crs, source_layer, demo: bool, source):
    """Import FILE (GeoJSON, GeoPackage, zipped Shapefile, CSV) into LAYER of PLATFORM, all or nothing."""
    from mapsvc.services.importer import import_file

    with click.progressbar(length=0, label="Checking rows", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        with _database().transaction() as session:
            report = import_file(session, platform, layer, file, crs=crs, source_layer=source_layer, demo=demo,
                                 source=source, progress=progress)
    click.echo(f"Imported {report.imported} feature(s) into {report.platform}/{report.layer} "
               f"(from {report.source_crs}).")
    if report.ignored_columns:
        click.echo(f"Columns not in the layer's schema were ignored: {', '.join(report.ignored_columns)}.")


@main.command("simulate")
@click.argument("platform")
@click.argument("layer")
@click.option("-n", "--count", default=200, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=1, show_default=True)
@click.option("--replace", is_flag=True, help="Delete the layer's earlier demo features first.")
@_friendly
def simulate(platform: str, layer: str, count: int, seed: int, replace: bool):
    """Generate labelled demo pins with planted hotspots on a suggestion layer (or demo initiatives)."""
    from mapsvc.services.simulation import simulate_layer

    with _database().transaction() as session:
        n = simulate_layer(session, platform, layer, n=count, seed=seed, replace=replace)
    click.echo(f"Added {n} DEMO feature(s) to {platform}/{layer} (seed {seed}).")


@main.group()
def users():
    """Create accounts, grant roles and issue API tokens."""


@users.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters (asked for when not given).")
@click.option("--display-name", help="Public name shown beside the user's pins (else they are anonymous).")
@click.option("--locale", default="nl", type=click.Choice(["nl", "fr", "en"]), show_default=True)
@click.option("--role", type=click.Choice(["moderator", "official", "admin", "initiative_manager"]))
@click.option("--platform", help="Platform slug for --role.")
@click.option("--layer", help="Layer slug, for --role initiative_manager.")
@_friendly
def users_create(email, password, display_name, locale, role, platform, layer):
    """Create a local account (citizen unless --role is given)."""
    from mapsvc.services import accounts

    if role and not platform:
        raise click.UsageError("--role needs --platform.")
    with _database().transaction() as session:
        user = accounts.create_user(session, email, password, display_name=display_name, locale=locale)
        if role:
            accounts.grant_role(session, user, role, platform, layer)
    click.echo(f"Created {email}" + (f" as {role} of {platform}{'/' + layer if layer else ''}." if role else "."))


@users.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(["moderator", "official", "admin", "initiative_manager"]))
@click.argument("platform")
@click.option("--layer", help="Layer slug, for initiative_manager.")
@_friendly
def users_grant(email, role, platform, layer):
    """Give a user a role on a platform."""
    from mapsvc.services import accounts

    with _database().transaction() as session:
        accounts.grant_role(session, accounts.get_user(session, email), role, platform, layer)
    click.echo(f"{email} is now {role} of {platform}{'/' + layer if layer else ''}.")


@users.command("token")
@click.argument("email")
@click.option("--name", default="script", show_default=True, help="What the token is for.")
@_friendly
def users_token(email, name):
    """Issue a personal API token (printed once; use it as `Authorization: Bearer …`)."""
    from mapsvc.services import accounts

    with _database().transaction() as session:
        token = accounts.issue_token(session, accounts.get_user(session, email), name)
    click.echo(token)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
def serve(host: str, port: int, debug: bool):
    """Run the development server (use gunicorn in production; see the README)."""
    from werkzeug.serving import run_simple

    # Flask's app.run() refuses to start inside its own CLI, so start werkzeug's server directly.
    app = current_app._get_current_object()
    app.debug = debug
    # The development server speaks plain HTTP: session cookies must not be Secure-only there.
    app.config["SESSION_COOKIE_SECURE"] = False
    run_simple(host, port, app, threaded=True, use_reloader=debug, use_debugger=debug)


@main.command("export")
@click.argument("platform")
@click.argument("layer")
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
@click.option("--format", "format_key", type=click.Choice(["geojson", "gpkg", "csv", "shp.zip"]),
              help="File format; by default from OUTPUT's suffix (.geojson, .gpkg, .csv, .shp.zip).")
@click.option("--crs", help="EPSG:4326 (default), EPSG:31370 (Lambert 72) or EPSG:3812 (Lambert 2008).")
@click.option("--bbox", help="minlon,minlat,maxlon,maxlat")
@click.option("--status", help="Comma-separated statuses, e.g. selected,realised.")
@click.option("--theme", help="Comma-separated themes of the layer.")
@click.option("--from", "date_from", help="Created on or after: 2026-09-01 or 2026-09-01T08:00 (Belgian time).")
@click.option("--to", "date_to", help="Created before the end of this day, or before this date-time.")
@_friendly
def export(platform: str, layer: str, output: str, format_key, crs, bbox, status, theme, date_from, date_to):
    """Export LAYER of PLATFORM to OUTPUT (GeoJSON, GeoPackage, CSV or zipped Shapefile), all or nothing."""
    from mapsvc.errors import BadRequest
    from mapsvc.export.formats import format_for_path
    from mapsvc.services import export as exports

    if format_key is None:
        guessed = format_for_path(output)
        if guessed is None:
            raise BadRequest(f"Cannot tell the format from {output!r}: end it in .geojson, .gpkg, .csv or .shp.zip, "
                             "or give --format.", code="unknown_format")
        format_key = guessed.key
    options = exports.parse_options(format_key, crs=crs, bbox=bbox, status=status, theme=theme,
                                    date_from=date_from, date_to=date_to)
    with _database().sessions() as session:
        prepared = exports.prepare_export(session, exports.command_line_actor(session, platform), platform, layer,
                                          options)
        total = exports.count_export(session, prepared)
        with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
            exports.write_export(session, prepared, output, progress=lambda done: bar.update(done - bar.pos))
            written = bar.pos
    click.echo(f"Exported {written} feature(s) of {platform}/{layer} to {output} "
               f"({options.format.label}, {options.crs}).")


def _register_command_modules() -> None:
    """Add the commands of mapsvc/commands/<area>.py (each defines register(main))."""
    from importlib import import_module

    from mapsvc.commands import AREAS

    for area in AREAS:
        import_module(f"mapsvc.commands.{area}").register(main)


_register_command_modules()
