"""Cut the shipped sample data out of ../shared/data (run once by a maintainer; the output is committed).

Usage: .venv/bin/python scripts/extract_sample_data.py [SHARED_DATA_DIR]
Keeps every OSM feature that lies inside one of the four sample areas, unfiltered: which charging points
and bookcases count as public is decided by mapsvc's sample loader, where the rule is visible and tested.
Keeps the populated Statbel 1 km cells that touch a sample area (for the book-cabinet gap analysis).
"""

import json
import sys
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "data"


def write(gdf: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Tags are dicts; GeoJSON keeps them as nested objects.
    features = json.loads(gdf.to_json(drop_id=True))
    features.pop("crs", None)
    path.write_text(json.dumps(features, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(gdf)} features")


areas = gpd.read_file(SHARED / "sample_areas_poperinge_beringen_kapelle_brussels.geojson")
write(areas, OUT / "boundaries" / "sample_areas.geojson")
union = areas.geometry.union_all()
for name, out in [
    ("osm_charging_stations_be_2025-12-26.geojson", "osm/charging_stations_2025-12-26.geojson"),
    ("osm_public_bookcases_be_2021-04-09.geojson", "osm/public_bookcases_2021-04-09.geojson"),
]:
    gdf = gpd.read_file(SHARED / name)
    write(gdf[gdf.within(union)].sort_values("osm_id"), OUT / out)
# Populated 1 km cells touching a sample area (the gap analysis keeps those whose centre is inside).
grid = gpd.read_file(SHARED / "statbel_population_grid_1km_2020_populated.geojson")
write(grid[grid.intersects(union)].sort_values("grid_id")[["grid_id", "pop_2020", "geometry"]],
      OUT / "statbel" / "population_grid_1km_2020.geojson")
