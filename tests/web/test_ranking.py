"""Rankings and rollout plans over HTTP, on both backends: who may see them, what they say, bad input."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from geoalchemy2.shape import from_shape
from shapely.geometry import shape

from mapsvc.services import accounts
from mapsvc.services.sample import SamplePlatform, create_platform
from mapsvc.storage.features import delete_features, insert_features
from mapsvc.storage.models import Feature, Layer, Vote, utcnow
from mapsvc.suggest.gaps import find_gaps, read_population_grid
from tests.conftest import BACKENDS, fresh_database_url
from tests.web.conftest import PASSWORD, csrf_of, login

REPO = Path(__file__).resolve().parents[2]
AREAS = {f["properties"]["nis"]: shape(f["geometry"])
         for f in json.loads((REPO / "data" / "boundaries" / "sample_areas.geojson").read_text())["features"]}
KAPELLE = AREAS["23039"]
TO_WGS = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)
TO_L72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
CENTRE = TO_L72.transform(*KAPELLE.representative_point().coords[0])
LAYERS = {"charging-requests": 0, "charging-points": 0, "unpaving-spots": 0, "solar-roofs": 0, "book-cabinets": 0}
RANKING = "/api/platforms/kapelle/layers/unpaving-spots/ranking"
ROLLOUT = "/api/platforms/kapelle/rollout"


def at(dx: float, dy: float) -> shapely.Point:
    """A point dx, dy metres from a spot inside Kapelle-op-den-Bos."""
    return shapely.Point(TO_WGS.transform(CENTRE[0] + dx, CENTRE[1] + dy))


class Scenario:
    """Ids of what the scenario stored, by name."""

    def __init__(self):
        self.people: dict[str, int] = {}
        self.pins: dict[str, list[int]] = {}
        self.tokens: dict[str, dict] = {}


def _person(session, scenario, name, grant=None, platform="kapelle", *, staff=False):
    """An account two months old; staff get a password (to log in) and an API token."""
    user = accounts.create_user(session, f"{name}@kapelle.example", PASSWORD if staff else None)
    user.created_at = utcnow() - timedelta(days=60)
    if grant:
        accounts.grant_role(session, user, grant, platform)
    scenario.people[name] = user.id
    if staff:
        scenario.tokens[name] = {"Authorization": f"Bearer {accounts.issue_token(session, user, 'tests')}"}
    return user


def _pins(session, layer_id, scenario, name, geometries, authors):
    features = [Feature(layer_id=layer_id, geom=from_shape(g, srid=4326), properties={"title": f"{name} {k}"},
                        status="submitted", source="tests", is_demo=False, author_id=a,
                        created_at=utcnow() - timedelta(days=10), updated_at=utcnow())
                for k, (g, a) in enumerate(zip(geometries, authors))]
    session.add_all(features)
    session.flush()
    scenario.pins[name] = [f.id for f in features]
    return scenario.pins[name]


def _vote(session, layer_id, feature_id, user_id, days_ago=5):
    session.add(Vote(feature_id=feature_id, layer_id=layer_id, user_id=user_id,
                     created_at=utcnow() - timedelta(days=days_ago)))


@pytest.fixture(scope="module", params=BACKENDS)
def kapelle_app(request, tmp_path_factory):
    """One app per backend with the Kapelle scenario, shared by this module's tests (they only read)."""
    from mapsvc import create_app

    url = fresh_database_url(request.param, tmp_path_factory.mktemp("ranking"), request)
    app = create_app({"DATABASE_URL": url})
    database = app.extensions["mapsvc.db"]
    scenario = _kapelle(database)
    yield app, scenario
    database.dispose()


@pytest.fixture
def kapelle(kapelle_app):
    return kapelle_app[1]


@pytest.fixture
def client(kapelle_app):
    return kapelle_app[0].test_client()


@pytest.fixture
def db(kapelle_app):
    return kapelle_app[0].extensions["mapsvc.db"]


def _kapelle(db) -> Scenario:
    """A platform on Kapelle-op-den-Bos: ten residents back one spot, one account brigades another."""
    scenario = Scenario()
    with db.transaction() as session:
        platform = create_platform(session, SamplePlatform(
            "kapelle", "23039", "municipality", ("Kapelle-op-den-Bos",) * 3, 12, ("#123456", "#ffffff"), LAYERS),
            KAPELLE)
        other = create_platform(session, SamplePlatform(
            "elders", "99998", "municipality", ("Elders",) * 3, 12, ("#654321", "#ffffff"), {"charging-points": 0}),
            shapely.box(4.0, 50.0, 4.1, 50.1))
        layers = {layer.slug: layer.id for layer in platform.layers}
        for name, grant in [("official", "official"), ("admin", "admin"), ("resident", None)]:
            _person(session, scenario, name, grant, staff=True)
        _person(session, scenario, "official_elsewhere", "official", platform="elders", staff=True)
        residents = [_person(session, scenario, f"r{k}").id for k in range(10)]
        brigade = [_person(session, scenario, f"b{k}").id for k in range(2)]
        session.flush()
        unpaving = layers["unpaving-spots"]
        good = _pins(session, unpaving, scenario, "good", [at(k * 8, 0) for k in range(3)], residents[:3])
        bad = _pins(session, unpaving, scenario, "brigade", [at(600 + k % 6 * 6, k // 6 * 6) for k in range(30)],
                    [brigade[0]] * 30)
        _pins(session, unpaving, scenario, "lone", [at(-900, 300)], [residents[9]])
        for k, voter in enumerate(residents[3:9]):
            _vote(session, unpaving, good[k % 3], voter)
        for feature_id in bad:
            _vote(session, unpaving, feature_id, brigade[1])
        requests = layers["charging-requests"]
        near = _pins(session, requests, scenario, "requests_near", [at(k * 10, 2000) for k in range(4)], residents[:4])
        _pins(session, requests, scenario, "requests_far", [at(1500, 2000), at(1510, 2000)], residents[4:6])
        _pins(session, requests, scenario, "request_covered", [at(-1500, 2000)], [residents[6]])
        for voter in residents[6:9]:
            _vote(session, requests, near[0], voter)
        _pins(session, layers["charging-points"], scenario, "existing", [at(-1500, 2100)], [None])
        roof = shapely.Polygon([TO_WGS.transform(CENTRE[0] + x, CENTRE[1] + y)
                                for x, y in [(0, -500), (20, -500), (20, -490), (0, -490), (0, -500)]])
        _pins(session, layers["solar-roofs"], scenario, "roofs", [roof, at(300, -500)], residents[:2])
        _pins(session, other.layers[0].id, scenario, "elsewhere", [shapely.Point(4.05, 50.05)], [None])
    return scenario


def get_ranking(client, person_headers, url=RANKING, **query):
    return client.get(url, query_string=query, headers=person_headers)


def test_officials_get_places_ranked_by_distinct_people(client, kapelle):
    response = get_ranking(client, kapelle.tokens["official"])
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == 3 == body["numberReturned"]
    first, second, third = body["features"]
    assert first["properties"]["feature_ids"] == kapelle.pins["good"]
    assert (first["properties"]["rank"], first["properties"]["score"], first["properties"]["people"]) == (1, 9.0, 9)
    assert second["properties"]["feature_ids"] == kapelle.pins["brigade"]
    assert second["properties"]["votes"] == 30 > first["properties"]["votes"] == 6
    assert (second["properties"]["people"], second["properties"]["voters"], second["properties"]["authors"]) == (2, 1, 1)
    assert third["properties"]["cluster"] is False and third["properties"]["pins"] == 1
    assert first["geometry"]["type"] == "Polygon"
    assert "distinct people" in body["rule"] and body["pins"] == 34 and body["votes"] == 36
    assert "voter" not in json.dumps(body["features"]).replace("voters", "")     # no voter ids, only counts


def test_the_same_request_gives_the_same_answer(client, kapelle):
    assert get_ranking(client, kapelle.tokens["official"]).data == get_ranking(client, kapelle.tokens["official"]).data


def test_parameters_come_from_the_query_string(client, kapelle):
    loose = get_ranking(client, kapelle.tokens["official"], eps_m="5", min_pins="2", limit="2").get_json()
    assert loose["parameters"]["eps_m"] == 5 and loose["numberReturned"] == 2 and loose["numberMatched"] > 3
    none = get_ranking(client, kapelle.tokens["official"], status="rejected").get_json()
    assert none["features"] == [] and none["pins"] == 0
    themed = get_ranking(client, kapelle.tokens["official"], **{"from": "2000-01-01", "to": "2001-01-01"}).get_json()
    assert themed["features"] == []


@pytest.mark.parametrize("query, code", [
    ({"eps_m": "0"}, "bad_ranking_parameters"), ({"eps_m": "5000"}, "bad_ranking_parameters"),
    ({"eps_m": "lots"}, "invalid_parameter"), ({"min_pins": "0"}, "invalid_parameter"),
    ({"status": "approved"}, "bad_ranking_parameters"), ({"theme": "kerst"}, "bad_ranking_parameters"),
    ({"from": "2026-10-01", "to": "2026-09-01"}, "bad_ranking_parameters"), ({"epsm": "75"}, "unknown_parameter"),
    ({"format": "xlsx"}, "invalid_parameter"), ({"from": "yesterday"}, "invalid_date"),
])
def test_bad_ranking_parameters_say_what_to_change(client, kapelle, query, code):
    response = get_ranking(client, kapelle.tokens["official"], **query)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("who, status", [("admin", 200), ("resident", 403), ("official_elsewhere", 403)])
def test_only_the_platforms_officials_rank(client, kapelle, who, status):
    assert get_ranking(client, kapelle.tokens[who]).status_code == status


def test_anonymous_must_log_in(client, kapelle):
    assert client.get(RANKING).status_code == 401
    assert client.post(ROLLOUT, json={}).status_code == 401


def test_unknown_layers_and_layers_without_ranking(client, kapelle):
    assert get_ranking(client, kapelle.tokens["official"], url=RANKING.replace("unpaving", "paving")).status_code == 404
    response = get_ranking(client, kapelle.tokens["official"], url=RANKING.replace("unpaving-spots", "charging-points"))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "no_ranking"


def test_ranking_downloads(client, kapelle):
    csv = get_ranking(client, kapelle.tokens["official"], format="csv")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("rank,score,pins,votes,voters,authors,people") and len(lines) == 4
    assert lines[1].split(",")[0:2] == ["1", "9.0"]
    geo = get_ranking(client, kapelle.tokens["official"], format="geojson")
    assert "kapelle-unpaving-spots-ranking.geojson" in geo.headers["Content-Disposition"]
    assert json.loads(geo.data)["features"][0]["properties"]["rank"] == 1


def test_solar_roofs_rank_each_roof_with_its_area(client, kapelle):
    body = get_ranking(client, kapelle.tokens["official"], url=RANKING.replace("unpaving-spots", "solar-roofs")).get_json()
    assert body["variant"] == "roofs" and body["numberMatched"] == 2
    areas = sorted((f["properties"]["area_m2"] is None, f["geometry"]["type"]) for f in body["features"])
    assert areas == [(False, "Polygon"), (True, "Polygon")]
    roof = next(f for f in body["features"] if f["properties"]["area_m2"] is not None)
    assert roof["properties"]["area_m2"] == pytest.approx(200, rel=0.01)


def test_book_cabinet_gaps_on_the_statbel_grid(client, kapelle, db):
    url = RANKING.replace("unpaving-spots", "book-cabinets")
    body = get_ranking(client, kapelle.tokens["official"], url=url).get_json()
    expected = find_gaps(read_population_grid(REPO / "data" / "statbel" / "population_grid_1km_2020.geojson"),
                         [], [], boundary=KAPELLE)
    assert body["variant"] == "gaps" and "Statbel" in body["attribution"]
    assert [f["properties"]["grid_id"] for f in body["features"]] == [g.grid_id for g in expected]
    first = body["features"][0]["properties"]
    with db.transaction() as session:                       # a cabinet in the most populated gap cell
        layer = session.query(Layer).filter_by(slug="book-cabinets").one()
        insert_features(session, layer.id, [{"geometry": shapely.Point(first["centre"]), "properties": {},
                                             "source": "tests"}])
    try:
        after = get_ranking(client, kapelle.tokens["official"], url=url, walk_radius_m="500").get_json()
        assert first["grid_id"] not in [f["properties"]["grid_id"] for f in after["features"]]
        assert after["book_cabinets"] == 1
    finally:
        with db.transaction() as session:                   # the module's other tests share this database
            delete_features(session, session.query(Layer).filter_by(slug="book-cabinets").one().id)


# ---- rollout ---------------------------------------------------------------------------------------

def plan(client, kapelle, who="official", query=None, **body):
    return client.post(ROLLOUT, json=body, headers=kapelle.tokens[who], query_string=query or {})


def test_the_rollout_plan_covers_the_most_supported_requests_first(client, kapelle):
    response = plan(client, kapelle, n_sites=2, per_phase=1, radius_m=250)
    assert response.status_code == 200
    body = response.get_json()
    first, second = body["sites"]
    assert set(first["new_request_ids"]) == set(kapelle.pins["requests_near"])   # 4 requests, 3 extra voters
    assert set(second["new_request_ids"]) == set(kapelle.pins["requests_far"])
    assert [first["phase"], second["phase"]] == [1, 2]
    assert body["covered_by_existing"] == 1.0 and body["total_demand"] == 10.0
    assert body["coverage_curve"] == pytest.approx([0.1, 0.8, 1.0])
    assert body["uncovered_request_ids"] == [] and "straight-line" in body["distances"].lower()
    assert body["exact"]["optimal"] is True and body["exact"]["greedy_ratio"] == 1.0
    assert body["candidates_source"] == "request clusters and requests"


def test_rollout_downloads_and_uploaded_candidates(client, kapelle):
    geo = plan(client, kapelle, query={"format": "geojson"}, n_sites=1)
    kinds = sorted({f["properties"]["kind"] for f in json.loads(geo.data)["features"]})
    assert kinds == ["existing_point", "planned_site", "request"] and "attachment" in geo.headers["Content-Disposition"]
    csv = plan(client, kapelle, query={"format": "csv"}, n_sites=1).get_data(as_text=True)
    assert csv.lstrip("\ufeff").startswith("order,phase,site_id") and "straight line" in csv
    candidates = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "station", "geometry": {"type": "Point", "coordinates": list(at(1505, 2000).coords[0])},
         "properties": {}}]}
    body = plan(client, kapelle, n_sites=1, candidates=candidates).get_json()
    assert body["sites"][0]["id"] == "station" and body["candidates_source"] == "uploaded"


@pytest.mark.parametrize("body, status, code", [
    ({"radius_m": 0}, 400, "bad_rollout_input"), ({"radius_m": 6000}, 400, "bad_rollout_input"),
    ({"radius_m": "far"}, 400, "invalid_field"), ({"n_sites": True}, 400, "invalid_field"),
    ({"n_sites": 3, "candidates_layer": "charging-points"}, 400, "bad_rollout_input"),
    ({"requests_layer": "laadpalen"}, 404, "unknown_layer"),
    ({"existing_layer": "elders/charging-points"}, 400, "other_platform"),
    ({"existing_layer": "charging-requests"}, 400, "wrong_layer_kind"),
    ({"budget": 3}, 400, "unknown_field"),
    ({"candidates": {"type": "FeatureCollection", "features": [{"geometry": {"type": "LineString"}}]}}, 400,
     "bad_candidates"),
])
def test_bad_rollout_input_is_refused_clearly(client, kapelle, body, status, code):
    response = plan(client, kapelle, **body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("who, status", [("admin", 200), ("resident", 403), ("official_elsewhere", 403)])
def test_only_the_platforms_officials_plan(client, kapelle, who, status):
    assert plan(client, kapelle, who=who, n_sites=1).status_code == status


# ---- dashboards --------------------------------------------------------------------------------------

def _no_cdn(page: str) -> None:
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources


def test_the_ranking_dashboard_shows_map_table_and_downloads(client, kapelle):
    login(client, "official@kapelle.example")
    page = client.get("/p/kapelle/unpaving-spots/ranking?eps_m=75&limit=&from=&min_pins=3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Rangschikking" in html and 'id="dash-table"' in html and "leaflet" in html
    assert html.count("<tr>") >= 4 and 'aria-sort="none"' in html
    assert "/api/platforms/kapelle/layers/unpaving-spots/ranking?format=csv" in html.replace("&amp;", "&")
    _no_cdn(html.split("<script>")[0])       # folium's inline map script may name the tile server
    both = client.get("/p/kapelle/unpaving-spots/ranking?status=submitted&status=selected").get_data(as_text=True)
    assert "status=submitted&status=selected" in both.replace("&amp;", "&")    # downloads keep the filters
    assert "cdn" not in html.lower()


def test_dashboards_ask_for_login_and_refuse_residents(client, kapelle):
    response = client.get("/p/kapelle/unpaving-spots/ranking")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "resident@kapelle.example")
    assert client.get("/p/kapelle/unpaving-spots/ranking").status_code == 403
    assert client.get("/p/kapelle/rollout").status_code == 403


def test_the_rollout_dashboard_and_its_downloads(client, kapelle):
    login(client, "official@kapelle.example")
    page = client.get("/p/kapelle/rollout?n_sites=2&radius_m=250&per_phase=&candidates_layer=")   # blank fields
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<polyline" in html and "not walking routes" in html
    assert "cdn" not in html.lower()
    csv = client.get("/p/kapelle/rollout?n_sites=2&format=csv")
    assert csv.mimetype == "text/csv" and len(csv.get_data(as_text=True).strip().splitlines()) == 3
    gaps = client.get("/p/kapelle/book-cabinets/ranking")
    assert gaps.status_code == 200 and "Inwoners" in gaps.get_data(as_text=True)


def test_a_logged_in_official_posts_the_rollout_with_the_csrf_token(client, kapelle):
    login(client, "official@kapelle.example")
    assert client.post(ROLLOUT, json={"n_sites": 1}).status_code == 400          # no CSRF token
    response = client.post(ROLLOUT, json={"n_sites": 1}, headers={"X-CSRFToken": csrf_of(client)})
    assert response.status_code == 200 and len(response.get_json()["sites"]) == 1


def _read_file(response, tmp_path, name):
    import pyogrio

    path = tmp_path / name
    path.write_bytes(response.data)
    return pyogrio.read_dataframe(path)


def test_rankings_and_plans_download_as_geopackage_and_shapefile_in_lambert(client, kapelle, tmp_path):
    body = get_ranking(client, kapelle.tokens["official"]).get_json()
    gpkg = get_ranking(client, kapelle.tokens["official"], format="gpkg", crs="EPSG:31370")
    assert gpkg.status_code == 200 and gpkg.mimetype == "application/geopackage+sqlite3"
    assert 'filename="kapelle-unpaving-spots-ranking-31370.gpkg"' in gpkg.headers["Content-Disposition"]
    frame = _read_file(gpkg, tmp_path, "ranking.gpkg")
    assert frame.crs.to_epsg() == 31370 and len(frame) == body["numberReturned"]
    first = body["features"][0]["properties"]
    row = frame.sort_values("rank").iloc[0]
    assert (row["rank"], row["score"], row["people"]) == (first["rank"], first["score"], first["people"])
    assert row["feature_ids"].split() == [str(i) for i in first["feature_ids"]]
    centre = TO_L72.transform(*first["centroid"])                 # metres, not degrees
    assert row.geometry.centroid.distance(shapely.Point(centre)) < 100

    shp = get_ranking(client, kapelle.tokens["official"], format="shp.zip", crs="EPSG:3812")
    assert _read_file(shp, tmp_path, "ranking.shp.zip").crs.to_epsg() == 3812

    sites = plan(client, kapelle, query={"format": "gpkg", "crs": "EPSG:31370"}, n_sites=2).data
    (tmp_path / "plan.gpkg").write_bytes(sites)
    import pyogrio
    planned = pyogrio.read_dataframe(tmp_path / "plan.gpkg")
    assert list(planned["order"]) == [1, 2] and planned.crs.to_epsg() == 31370
    assert set(planned["new_request_ids"][0].split()) == {str(i) for i in kapelle.pins["requests_near"]}

    wrong = get_ranking(client, kapelle.tokens["official"], format="geojson", crs="EPSG:31370")
    assert wrong.status_code == 400 and "GeoPackage" in wrong.get_json()["error"]["message"]
    bad = get_ranking(client, kapelle.tokens["official"], format="gpkg", crs="EPSG:2154")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_crs"
