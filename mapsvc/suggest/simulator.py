"""Seeded participation simulator: demo pins and demo votes with planted hotspots.

No real citizen suggestions exist for the sample platforms, so demos and benchmarks use this model.
All output is demo data: titles start with "Demo – ", descriptions end with "(gegenereerde demodata)",
ids are "demo-0001" / "demo-resident-0001"; callers must also flag stored rows as demo data.

Parameters of ``simulate_participation(boundary, flavour, *, n_pins, seed, ...)``:
boundary (Polygon/MultiPolygon, EPSG:4326), flavour (a key of FLAVOURS), n_pins (0..1,000,000),
seed (>= 0), n_hotspots (0..100, default 3), hotspot_share (0..1, default 0.6), hotspot_radius_m
(0 < r <= 2000, default 40), n_residents (default max(50, n_pins)), votes_per_resident (0..100,
default 3), start (timezone-aware, default 2026-09-01T00:00Z), days (1..3650, default 60).

Model (metric work in Belgian Lambert 72, EPSG:31370; geometries returned in EPSG:4326):
* Hotspot centres: uniform in the boundary shrunk by 2 * radius, at least max(300 m, 4 * radius) apart.
* floor(n_pins * hotspot_share + 0.5) pins go to the hotspots (split evenly, remainder to the first):
  2-D normal around the centre, sigma = radius / 2, redrawn beyond radius. The rest are uniform in
  the boundary (rejection sampling). Every geometry (a whole roof polygon too) is checked inside the
  EPSG:4326 boundary and redrawn if not. Pins are shuffled, so keys reveal nothing.
* Residents: max(0.5, hotspot_share) of them (none without hotspot pins) live near a hotspot (normal,
  sigma = max(radius, 50 m), within 2 sigma) and cast all votes_per_resident votes; the others live
  uniformly in the boundary and cast 0..votes_per_resident votes (uniform). So hotspot pins get more
  support than background pins on average, for any hotspot_share.
* Votes: each resident picks distinct pins among about the 20 nearest (grid of cells, dense cells
  subsampled; numpy only), without replacement, weight exp(-d / (100 m + distance to the nearest)).
  Authors are uniform among residents; nobody supports their own pin.
* created_at is uniform in [start, start + days), to the microsecond.
* One numpy.random.default_rng(seed) drives everything: same arguments give an equal Simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

_TO_L72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)
DEFAULT_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
MIN_HOTSPOT_SPACING_M = 300.0
MAX_PINS = 1_000_000
_NEAREST = 20
_PER_CELL = 16
_SUFFIX = " (gegenereerde demodata)"
_PLACES = ("bij de school", "aan de kerk", "op het dorpsplein", "bij het station", "aan het sportpark",
           "bij de bibliotheek", "aan de speeltuin", "bij het gemeentehuis", "in de woonwijk",
           "langs de fietsroute", "bij het woonzorgcentrum", "aan de parking", "in de zijstraat",
           "bij de jeugdbeweging", "aan het kruispunt", "bij de sporthal")


@dataclass(frozen=True)
class Flavour:
    """How one demo layer looks: geometry type, themes, drawn fields and Dutch texts."""
    slug: str
    geometry: str                                # "Point" or "Polygon"
    themes: tuple[str | None, ...]
    choices: Mapping[str, tuple]                 # field -> values drawn uniformly; "_x" only feed texts
    title: Callable[[dict], str]                 # subject and place, without "Demo – " and number
    body: Callable[[dict], str]
    fixed: tuple[tuple[str, object], ...] = ()


_USES = {"public": "het gemeentehuis", "school": "de school", "sports": "de sporthal",
         "residential": "het appartementsgebouw", "commercial": "de supermarkt"}
_DECOS = {"lights": ("Kerstverlichting", "lichtjes"), "nativity": ("Kerststal", "een kerststal"),
          "figures": ("Kerstfiguren", "verlichte figuren"),
          "mixed": ("Kerstversiering", "gemengde versiering")}
FLAVOURS: Mapping[str, Flavour] = MappingProxyType({f.slug: f for f in (
    Flavour("unpaving-spots", "Point", ("ontharden", "vergroenen"),
            {"_subject": ("Groen pleintje", "Tegels eruit", "Geveltuinen", "Boom in plaats van asfalt",
                          "Ontharde parkeerstrook", "Wadi voor regenwater", "Bloemenstrook"),
             "_place": _PLACES, "surface_m2": tuple(range(5, 401))},
            lambda r: f"{r['_subject']} {r['_place']}",
            lambda r: f"hier kan ongeveer {r['surface_m2']} m² verharding weg, zodat regenwater "
                      "infiltreert en er plaats is voor groen."),
    Flavour("charging-requests", "Point", (None,),
            {"_subject": ("Laadpaal gevraagd", "Publiek laadpunt gewenst", "Laadpaal voor buurtbewoners",
                          "Extra laadpunt"), "_place": _PLACES, "vehicles": (1, 2)},
            lambda r: f"{r['_subject']} {r['_place']}",
            lambda r: "bewoner zonder eigen oprit vraagt een publieke laadpaal in de buurt voor "
                      f"{r['vehicles']} wagen{'s' if r['vehicles'] > 1 else ''}.",
            (("has_private_parking", False),)),
    Flavour("solar-roofs", "Polygon", ("energie",),
            {"_subject": ("Zonnepanelen op het dak van", "Zonnedak op", "Energiedak voor"),
             "roof_type": ("flat", "pitched"), "building_use": tuple(_USES)},
            lambda r: f"{r['_subject']} {_USES[r['building_use']]}",
            lambda r: f"{'plat' if r['roof_type'] == 'flat' else 'hellend'} dak van "
                      f"{_USES[r['building_use']]}, mogelijk geschikt voor zonnepanelen."),
    Flavour("christmas-village", "Point", ("kerstdorp",),
            {"decoration": tuple(_DECOS), "_place": _PLACES},
            lambda r: f"{_DECOS[r['decoration']][0]} {r['_place']}",
            lambda r: f"voorstel voor {_DECOS[r['decoration']][1]} in het kerstdorp."),
)})


def _properties(spec: Flavour, rng: np.random.Generator, n: int) -> list[dict]:
    cols = {k: rng.integers(0, len(v), n).tolist() for k, v in spec.choices.items()}
    out = []
    for i in range(n):
        row = {k: spec.choices[k][cols[k][i]] for k in cols}
        out.append({"title": f"Demo – {spec.title(row)} #{i + 1}"[:120],
                    "description": f"Demosuggestie: {spec.body(row)}"[:500 - len(_SUFFIX)] + _SUFFIX,
                    **{k: v for k, v in row.items() if not k.startswith("_")}, **dict(spec.fixed)})
    return out


@dataclass(frozen=True)
class Hotspot:
    """A planted hotspot: centre (EPSG:4326), radius in metres and number of pins."""
    index: int
    lon: float
    lat: float
    radius_m: float
    n_pins: int


@dataclass(frozen=True)
class SimulatedPin:
    """One demo suggestion with its simulated author and supporters."""
    key: str
    geometry: shapely.Geometry
    theme: str | None
    properties: dict
    created_at: datetime
    author: str
    supporters: tuple[str, ...]
    hotspot: int | None


@dataclass(frozen=True)
class Simulation:
    """Result of one simulator run."""
    seed: int
    flavour: str
    hotspots: tuple[Hotspot, ...]
    pins: tuple[SimulatedPin, ...]
    residents: tuple[str, ...]

    @property
    def n_votes(self) -> int:
        """Total number of votes cast (sum of supporters over all pins)."""
        return sum(len(p.supporters) for p in self.pins)


@dataclass(frozen=True)
class SimulatedInitiative:
    """A demo row for a catalogue of participation initiatives."""
    key: str
    lon: float
    lat: float
    name: str
    organiser: str
    theme: str
    address: str | None
    link: str
    description: str


def _int(name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}" if hi is not None
                         else f"{name} must be >= {lo}, got {value}")
    return int(value)


def _project(boundary) -> tuple[shapely.Geometry, shapely.Geometry]:
    if not isinstance(boundary, (Polygon, MultiPolygon)) or boundary.is_empty:
        raise ValueError("boundary must be a non-empty shapely Polygon or MultiPolygon (EPSG:4326)")
    if not boundary.is_valid:
        raise ValueError(f"boundary is not a valid geometry: {shapely.is_valid_reason(boundary)}")
    x0, y0, x1, y1 = boundary.bounds
    if not (-180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90):
        raise ValueError("boundary must be in EPSG:4326 longitude/latitude")
    l72 = shapely.transform(shapely.segmentize(boundary, 0.001),
                            lambda c: np.column_stack(_TO_L72.transform(c[:, 0], c[:, 1])))
    if l72.area < 1.0:
        raise ValueError("boundary has (almost) no area")
    boundary = shapely.transform(boundary, lambda c: c)      # a copy: never prepare the caller's object
    shapely.prepare(l72)
    shapely.prepare(boundary)
    return boundary, l72


def _sample(rng: np.random.Generator, area, n: int, centre=None, sigma: float = 0.0) -> np.ndarray:
    """n points in area (Lambert 72): uniform, or 2-D normal around centre truncated at 2 sigma."""
    x0, y0, x1, y1 = area.bounds
    fill = max(area.area / ((x1 - x0) * (y1 - y0)), 1e-4) if centre is None else 0.5
    out, have = [], 0
    for _ in range(1000):
        if have >= n:
            break
        k = int((n - have) / fill * 1.2) + 16
        if centre is None:
            xy = np.column_stack((rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)))
        else:
            xy = rng.normal(0.0, sigma, (k, 2))
            xy = xy[np.hypot(xy[:, 0], xy[:, 1]) <= 2 * sigma] + centre
        out.append(xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])][: n - have])
        have += len(out[-1])
    if have < n:
        raise ValueError("could not sample points inside the boundary (too small or too thin?)")
    return np.concatenate(out) if out else np.empty((0, 2))


def _split(total: int, parts: int) -> list[int]:
    """total split evenly over parts, remainder to the first."""
    return [total // parts + (total % parts if i == 0 else 0) for i in range(parts)]


def _hotspot_centres(rng, l72, n: int, radius: float) -> np.ndarray:
    inner = l72.buffer(-2 * radius)
    if n and inner.area < 1.0:
        raise ValueError("boundary is too small for hotspots of this radius")
    spacing = max(MIN_HOTSPOT_SPACING_M, 4 * radius)
    shapely.prepare(inner)
    for _ in range(30):                  # greedy over a fresh batch of candidates; restart if stuck
        cand, chosen = _sample(rng, inner, min(64 * n, 4000)), []
        alive = np.ones(len(cand), bool)
        while len(chosen) < n and alive.any():
            chosen.append(cand[np.argmax(alive)])
            alive &= np.hypot(*(cand - chosen[-1]).T) >= spacing
        if len(chosen) == n:
            return np.array(chosen).reshape(-1, 2)
    raise ValueError(f"could not place {n} hotspots {spacing:.0f} m apart inside the boundary")


def _to_wgs(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _TO_WGS84.transform(xy[:, 0], xy[:, 1])


def _geometries(xy: np.ndarray, roofs: np.ndarray | None) -> np.ndarray:
    """Points, or rotated roof rectangles (length, width, angle per row of roofs), in EPSG:4326."""
    if roofs is None:
        return shapely.points(np.column_stack(_to_wgs(xy)))
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None] * roofs[:, None, :2]                         # (n, 5, 2), counter-clockwise
    cos, sin = np.cos(roofs[:, 2])[:, None], np.sin(roofs[:, 2])[:, None]
    ring = np.stack((local[..., 0] * cos - local[..., 1] * sin + xy[:, :1],
                     local[..., 0] * sin + local[..., 1] * cos + xy[:, 1:]), axis=-1)
    lon, lat = _to_wgs(ring.reshape(-1, 2))
    return shapely.orient_polygons(shapely.polygons(np.column_stack((lon, lat)).reshape(-1, 5, 2)))


def _place(boundary, sample, groups: np.ndarray, roofs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Sample centres per group (-1 uniform, h hotspot h); redraw until each geometry is inside boundary."""
    xy, geoms, todo = np.empty((len(groups), 2)), np.empty(len(groups), dtype=object), np.arange(len(groups))
    for _ in range(100):
        for h in np.unique(groups[todo]):
            idx = todo[groups[todo] == h]
            xy[idx] = sample(len(idx), h)
        geoms[todo] = _geometries(xy[todo], None if roofs is None else roofs[todo])
        todo = todo[~shapely.contains(boundary, geoms[todo])]
        if not len(todo):
            return xy, geoms
    raise ValueError("could not place all pins inside the boundary (boundary too thin?)")


def _votes(rng, pin_xy, res_xy, authors, n_votes, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """(resident, pin) vote pairs: each resident picks distinct nearby pins, never their own."""
    origin = np.minimum(pin_xy.min(axis=0), res_xy.min(axis=0))
    pcell, rcell = ((pin_xy - origin) // cell).astype(np.int64), ((res_xy - origin) // cell).astype(np.int64)
    width = int(max(pcell[:, 1].max(), rcell[:, 1].max())) + 3
    pkey = (pcell[:, 0] + 1) * width + pcell[:, 1] + 1
    order = np.argsort(pkey, kind="stable")
    keys, starts, counts = np.unique(pkey[order], return_index=True, return_counts=True)
    slots = {int(k): order[s:s + c] for k, s, c in zip(keys, starts, counts)}
    rkey = (rcell[:, 0] + 1) * width + rcell[:, 1] + 1
    active = np.flatnonzero(n_votes > 0)
    rorder = active[np.argsort(rkey[active], kind="stable")]
    ukeys, ustarts = np.unique(rkey[rorder], return_index=True)
    pairs_r, pairs_p = [], []
    for key, group in zip(ukeys, np.split(rorder, ustarts[1:])):
        cand = []
        for dx in (-width, 0, width):
            for dy in (-1, 0, 1):
                ids = slots.get(int(key) + dx + dy)
                if ids is None:
                    continue
                if len(ids) <= _PER_CELL:
                    cand.append(np.broadcast_to(ids, (len(group), len(ids))))
                else:
                    cand.append(ids[rng.integers(0, len(ids), (len(group), _PER_CELL))])
        if not cand:
            continue
        cand = np.sort(np.hstack(cand), axis=1)
        bad = np.zeros(cand.shape, bool)
        bad[:, 1:] = cand[:, 1:] == cand[:, :-1]
        bad |= authors[cand] == group[:, None]
        d = np.hypot(*(pin_xy[cand] - res_xy[group][:, None, :]).transpose(2, 0, 1))
        d[bad] = np.inf
        if d.shape[1] > _NEAREST:
            take = np.argpartition(d, _NEAREST - 1, axis=1)[:, :_NEAREST]
            cand, d = np.take_along_axis(cand, take, 1), np.take_along_axis(d, take, 1)
        dmin = d.min(axis=1)
        scale = 100.0 + np.where(np.isfinite(dmin), dmin, 0.0)
        keyv = -d / scale[:, None] + rng.gumbel(size=d.shape)
        rank = np.argsort(-keyv, axis=1)
        chosen = np.take_along_axis(cand, rank, 1)
        ok = np.isfinite(np.take_along_axis(keyv, rank, 1))
        ok &= np.arange(d.shape[1]) < n_votes[group][:, None]
        pairs_r.append(np.broadcast_to(group[:, None], ok.shape)[ok])
        pairs_p.append(chosen[ok])
    if not pairs_r:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(pairs_r), np.concatenate(pairs_p)


def simulate_participation(boundary, flavour: str, *, n_pins: int, seed: int, n_hotspots: int = 3,
                           hotspot_share: float = 0.6, hotspot_radius_m: float = 40.0,
                           n_residents: int | None = None, votes_per_resident: int = 3,
                           start: datetime | None = None, days: int = 60) -> Simulation:
    """Generate seeded demo pins and votes with planted hotspots inside boundary (EPSG:4326)."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; valid flavours: {', '.join(FLAVOURS)}")
    n_pins = _int("n_pins", n_pins, 0, MAX_PINS)
    seed = _int("seed", seed, 0)
    n_hotspots = _int("n_hotspots", n_hotspots, 0, 100)
    n_residents = max(50, n_pins) if n_residents is None else _int("n_residents", n_residents, 1, MAX_PINS)
    votes_per_resident = _int("votes_per_resident", votes_per_resident, 0, 100)
    days = _int("days", days, 1, 3650)
    if isinstance(hotspot_share, bool) or not isinstance(hotspot_share, (int, float)) \
            or not 0 <= hotspot_share <= 1:
        raise ValueError(f"hotspot_share must be between 0 and 1, got {hotspot_share!r}")
    if isinstance(hotspot_radius_m, bool) or not isinstance(hotspot_radius_m, (int, float)) \
            or not 0 < hotspot_radius_m <= 2000:
        raise ValueError(f"hotspot_radius_m must be > 0 and <= 2000, got {hotspot_radius_m!r}")
    if n_hotspots == 0 and hotspot_share > 0:
        raise ValueError("hotspot_share must be 0 when n_hotspots is 0")
    start = DEFAULT_START if start is None else start
    if not isinstance(start, datetime) or start.utcoffset() is None:
        raise ValueError("start must be a timezone-aware datetime")
    start = start.astimezone(timezone.utc)
    spec = FLAVOURS[flavour]
    boundary, l72 = _project(boundary)
    rng = np.random.default_rng(seed)
    radius = float(hotspot_radius_m)

    centres = _hotspot_centres(rng, l72, n_hotspots, radius)
    n_hot = math.floor(n_pins * hotspot_share + 0.5)
    per = _split(n_hot, n_hotspots)
    hot_of = np.repeat(np.arange(-1, n_hotspots), [n_pins - n_hot, *per])
    sample = (lambda k, h: _sample(rng, l72, k, centres[h] if h >= 0 else None, radius / 2))
    roofs = (np.column_stack((rng.uniform(8, 25, n_pins), rng.uniform(8, 15, n_pins),
                              rng.uniform(0, np.pi, n_pins))) if spec.geometry == "Polygon" else None)
    xy, geoms = _place(boundary, sample, hot_of, roofs)
    perm = rng.permutation(n_pins)
    xy, geoms, hot_of = xy[perm], geoms[perm], hot_of[perm]

    share_near = max(0.5, hotspot_share) if n_hot else 0.0
    n_near = math.floor(n_residents * share_near + 0.5)
    sigma = max(radius, 50.0)
    res_xy = np.concatenate([_sample(rng, l72, k, centres[h], sigma) for h, k in
                             enumerate(_split(n_near, n_hotspots) if n_near else [])]
                            + [_sample(rng, l72, n_residents - n_near)])
    n_votes = np.concatenate([np.full(n_near, votes_per_resident),
                              rng.integers(0, votes_per_resident + 1, n_residents - n_near)])
    authors = rng.integers(0, n_residents, n_pins)
    width = max(4, len(str(n_residents)))
    residents = tuple(f"demo-resident-{i + 1:0{width}d}" for i in range(n_residents))
    supporters: list[tuple[str, ...]] = [()] * n_pins
    if n_pins:
        cell = max(20.0, math.sqrt(l72.envelope.area * _PER_CELL / max(n_pins - n_hot, 1)))
        vr, vp = _votes(rng, xy, res_xy, authors, n_votes, cell)
        order = np.lexsort((vr, vp))
        vr, vp = vr[order], vp[order]
        bounds = np.searchsorted(vp, np.arange(n_pins + 1))
        names = [residents[r] for r in vr.tolist()]
        supporters = [tuple(names[a:b]) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]

    props = _properties(spec, rng, n_pins)
    themes = rng.integers(0, len(spec.themes), n_pins)
    micros = rng.integers(0, days * 86_400 * 1_000_000, n_pins)
    kw = max(4, len(str(n_pins)))
    pins = tuple(SimulatedPin(key=f"demo-{i + 1:0{kw}d}", geometry=g, theme=spec.themes[t], properties=pr,
                              created_at=start + timedelta(microseconds=us), author=residents[a],
                              supporters=sup, hotspot=h if h >= 0 else None)
                 for i, (g, t, pr, us, a, sup, h) in enumerate(zip(
                     geoms, themes.tolist(), props, micros.tolist(), authors.tolist(), supporters,
                     hot_of.tolist())))
    lon, lat = _to_wgs(centres) if n_hotspots else ((), ())
    hotspots = tuple(Hotspot(h, float(lon[h]), float(lat[h]), radius, per[h]) for h in range(n_hotspots))
    return Simulation(seed=seed, flavour=flavour, hotspots=hotspots, pins=pins, residents=residents)


_INITIATIVES = {"mobiliteit": ("Schoolstraat", "Fietsbus", "Autodeelproject"),
                "groen": ("Buurtmoestuin", "Geveltuinen", "Boomplantactie"),
                "cultuur": ("Buurtfeest", "Straatbibliotheek", "Muurschildering"),
                "wonen": ("Wooncafé", "Renovatieloket", "Samenhuizen"),
                "klimaat": ("Energiecoöperatie", "Repair café", "Regenwaterproject"),
                "sociaal": ("Buurtrestaurant", "Huiswerkklas", "Seniorennetwerk")}
_ORGANISERS = ("Demo-buurtcomité", "Demo-vzw", "Demo-bewonersgroep", "Demo-wijkraad")


def simulate_initiatives(boundary, *, n: int, seed: int) -> tuple[SimulatedInitiative, ...]:
    """Generate seeded demo rows for a catalogue of participation initiatives inside boundary."""
    n = _int("n", n, 0, 100_000)
    seed = _int("seed", seed, 0)
    boundary, l72 = _project(boundary)
    rng = np.random.default_rng(seed)
    _, geoms = _place(boundary, lambda k, h: _sample(rng, l72, k), np.full(n, -1), None)
    lon, lat = shapely.get_x(geoms.astype(object)), shapely.get_y(geoms.astype(object))
    themes = tuple(_INITIATIVES)
    th, kind, place = rng.integers(0, len(themes), n), rng.integers(0, 3, n), rng.integers(0, len(_PLACES), n)
    org, org_no = rng.integers(0, len(_ORGANISERS), n), rng.integers(1, 100, n)
    kw = max(4, len(str(n)))
    return tuple(SimulatedInitiative(
        key=f"demo-initiative-{i + 1:0{kw}d}", lon=float(lon[i]), lat=float(lat[i]),
        name=f"Demo – {_INITIATIVES[themes[th[i]]][kind[i]]} {_PLACES[place[i]]} #{i + 1}",
        organiser=f"{_ORGANISERS[org[i]]} {org_no[i]}", theme=themes[th[i]], address=None,
        link=f"https://example.org/demo/initiative-{i + 1}",
        description=f"Demo-initiatief ({themes[th[i]]}): {_INITIATIVES[themes[th[i]]][kind[i]].lower()} "
                    f"{_PLACES[place[i]]}, georganiseerd door buurtbewoners.{_SUFFIX}") for i in range(n))
