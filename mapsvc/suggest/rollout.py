"""Plan where the next public charging points go: maximum coverage of residents' requests.

A request is covered when a charging point stands within ``radius_m`` of it (250 m by default: the
Flemish "paal volgt wagen" rule). Distances are straight lines in Belgian Lambert 72 (EPSG:31370)
metres, not walking routes. Each request weighs what its distinct supporters weigh (the caller passes
the weight); demand within the radius of an existing public point is covered already.

``plan_rollout`` picks sites one at a time, each covering the most still-uncovered demand (lazy greedy on
a sparse candidate x request matrix; ties to the earlier candidate), and splits the order into phases.
Greedy covers at least 1 - 1/e (63 %) of the optimum and usually far more; ``solve_exact`` solves the
maximal covering location model (MCLP) exactly with HiGHS on the same sparse matrix, so a plan can say
how close greedy came:  max sum_i w_i y_i  s.t.  y_i <= sum_{j covers i} x_j,  sum_j x_j <= p,
x binary, 0 <= y <= 1 (only pairs within the radius exist; requests no candidate reaches are left out).
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse import bmat, csr_matrix, identity
from scipy.spatial import cKDTree

from mapsvc.spatial.crs import LAMBERT72, from_wgs84

DISTANCE_NOTE = "Straight-line distances in Belgian Lambert 72 (EPSG:31370) metres, not walking routes."
MAX_RADIUS_M = 5000.0
EXACT_MAX_PAIRS = 2_000_000        # larger models are not solved exactly by default


@dataclass(frozen=True, eq=False)
class Points:
    """Requests, existing charging points or candidate sites: ids, lon/lat and a weight (demand)."""
    id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray | None = None

    def __post_init__(self):
        n = len(np.asarray(self.id, dtype=object))
        object.__setattr__(self, "id", np.asarray(self.id, dtype=object))
        for name in ("lon", "lat"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), np.float64))
        weight = np.ones(n) if self.weight is None else np.asarray(self.weight, np.float64)
        object.__setattr__(self, "weight", weight)
        if not all(len(getattr(self, k)) == n for k in ("lon", "lat", "weight")):
            raise ValueError("id, lon, lat and weight must have the same length")
        if not (np.isfinite(self.lon).all() and np.isfinite(self.lat).all()):
            raise ValueError("coordinates must be finite lon/lat")
        if not (np.isfinite(weight).all() and (weight >= 0).all()):
            raise ValueError("weights must be finite and >= 0")
        if len(set(self.id.tolist())) != n:
            raise ValueError("ids must be unique")

    def __len__(self) -> int:
        return len(self.id)


NONE = Points([], [], [])


def default_candidates(requests: Points, cluster_lon=(), cluster_lat=()) -> Points:
    """Candidate sites by default: the request clusters' centroids (cluster-1, ...), then every request."""
    n = len(np.atleast_1d(cluster_lon))
    return Points([f"cluster-{k}" for k in range(1, n + 1)] + [f"request-{i}" for i in requests.id.tolist()],
                  np.r_[np.asarray(cluster_lon, float), requests.lon], np.r_[np.asarray(cluster_lat, float), requests.lat])


@dataclass(frozen=True)
class PlannedSite:
    """One site of the plan, with what it adds to the coverage."""
    order: int
    phase: int
    id: object
    lon: float
    lat: float
    new_request_ids: tuple
    new_demand: float
    covered_demand: float          # cumulative, existing points included
    covered_share: float           # covered_demand / total demand


@dataclass(frozen=True)
class ExactSolution:
    """The exact MCLP optimum for the same inputs, and how greedy compares."""
    site_ids: tuple
    new_demand: float              # demand the optimal sites newly cover
    optimal: bool                  # False when the time limit stopped HiGHS first
    gap: float                     # relative MIP gap HiGHS reports (0 when proven optimal)
    greedy_ratio: float            # greedy's newly covered demand / this one's
    seconds: float = field(default=0.0, compare=False)   # wall time, not part of the result


@dataclass(frozen=True)
class RolloutPlan:
    """An ordered, phased rollout plan with its coverage curve and the requests still uncovered."""
    radius_m: float
    n_sites: int                   # how many were asked for
    per_phase: int
    total_demand: float
    existing_demand: float         # covered by existing points before any new site
    sites: tuple[PlannedSite, ...]
    uncovered_ids: tuple           # requests no planned or existing point covers
    unreachable_ids: tuple         # of those, the ones no candidate could cover
    note: str                      # straight-line distances; why fewer sites than asked, if so
    exact: ExactSolution | None = None

    @property
    def curve(self) -> list[float]:
        """Covered share of demand after 0, 1, 2, ... new sites."""
        base = self.existing_demand / self.total_demand if self.total_demand else 0.0
        return [base] + [s.covered_share for s in self.sites]


@dataclass(frozen=True)
class _Coverage:
    matrix: csr_matrix             # candidates x requests, 1 where within the radius; covered ones dropped
    open_: np.ndarray              # requests not covered by existing points
    weight: np.ndarray


def _metres(points: Points) -> np.ndarray:
    x, y = from_wgs84(LAMBERT72).transform(points.lon, points.lat)
    return np.column_stack((x, y))


def check_inputs(requests: Points, candidates: Points, radius_m: float, n_sites: int, per_phase: int) -> None:
    """Raise ValueError with a message a person can act on when the rollout inputs cannot work."""
    if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float)) or not math.isfinite(radius_m) \
            or not 0 < radius_m <= MAX_RADIUS_M:
        raise ValueError(f"radius_m must be more than 0 and at most {MAX_RADIUS_M:.0f} m, got {radius_m!r}")
    for name, value in (("n_sites", n_sites), ("per_phase", per_phase)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if not len(requests):
        raise ValueError("there are no charging requests to cover")
    if not len(candidates):
        raise ValueError("there are no candidate sites")
    if n_sites > len(candidates):
        raise ValueError(f"{n_sites} sites asked for but there are only {len(candidates)} candidate sites")


def _coverage(requests: Points, existing: Points, candidates: Points, radius_m: float) -> _Coverage:
    req = _metres(requests)
    tree = cKDTree(req)
    open_ = np.ones(len(requests), bool)
    if len(existing):
        for hit in tree.query_ball_point(_metres(existing), radius_m):
            open_[hit] = False
    rows = tree.query_ball_point(_metres(candidates), radius_m)
    lengths = np.fromiter((len(r) for r in rows), np.int64, len(rows))
    cols = np.fromiter((i for r in rows for i in r), np.int64, int(lengths.sum()))
    matrix = csr_matrix((np.ones(len(cols), np.float64), cols, np.r_[0, np.cumsum(lengths)]),
                        shape=(len(candidates), len(requests)))
    matrix = matrix @ _diag(open_.astype(np.float64))   # drop requests existing points already cover
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return _Coverage(matrix, open_, requests.weight)


def _diag(values: np.ndarray) -> csr_matrix:
    n = len(values)
    return csr_matrix((values, np.arange(n), np.arange(n + 1)), shape=(n, n))


def _greedy(cov: _Coverage, n_sites: int) -> list[tuple[int, np.ndarray]]:
    """Lazy greedy: (candidate, newly covered requests) in order of pick; stops when nothing is left to gain."""
    m = cov.matrix
    covered = ~cov.open_
    heap = [(-g, j) for j, g in enumerate((m @ cov.weight).tolist()) if g > 0]
    heapq.heapify(heap)
    picks = []
    while heap and len(picks) < n_sites:
        _, j = heapq.heappop(heap)
        cols = m.indices[m.indptr[j]:m.indptr[j + 1]]
        new = cols[~covered[cols]]
        gain = float(cov.weight[new].sum())
        if gain <= 0:
            continue
        if heap and (-gain, j) > heap[0]:             # stale: someone else may be better now
            heapq.heappush(heap, (-gain, j))
            continue
        covered[new] = True
        picks.append((j, new))
    return picks


def plan_rollout(requests: Points, existing: Points, candidates: Points, *, radius_m: float = 250.0,
                 n_sites: int = 10, per_phase: int | None = None, exact: bool | None = None,
                 exact_time_limit_s: float = 10.0) -> RolloutPlan:
    """Order up to n_sites candidate sites by newly covered demand (lazy greedy) and phase them.

    exact: True solves the MCLP too, False never, None when the model has at most EXACT_MAX_PAIRS pairs.
    """
    per_phase = n_sites if per_phase is None else per_phase
    check_inputs(requests, candidates, radius_m, n_sites, per_phase)
    cov = _coverage(requests, existing, candidates, float(radius_m))
    picks = _greedy(cov, n_sites)
    total = float(requests.weight.sum())
    done = float(requests.weight[~cov.open_].sum())
    existing_demand = done
    lon, lat = candidates.lon, candidates.lat
    sites = []
    for order, (j, new) in enumerate(picks, start=1):
        gain = float(requests.weight[new].sum())
        done += gain
        sites.append(PlannedSite(order=order, phase=(order - 1) // per_phase + 1, id=candidates.id[j],
                                 lon=float(lon[j]), lat=float(lat[j]),
                                 new_request_ids=tuple(requests.id[np.sort(new)].tolist()), new_demand=gain,
                                 covered_demand=done, covered_share=done / total if total else 0.0))
    covered = ~cov.open_
    for _, new in picks:
        covered[new] = True
    reachable = np.zeros(len(requests), bool)
    reachable[cov.matrix.indices] = True
    note = DISTANCE_NOTE
    if len(picks) < n_sites:
        note += (f" Only {len(picks)} of the {n_sites} sites asked for add coverage; the remaining candidates"
                 " cover no request that is still uncovered.")
    plan = RolloutPlan(radius_m=float(radius_m), n_sites=n_sites, per_phase=per_phase, total_demand=total,
                       existing_demand=existing_demand, sites=tuple(sites),
                       uncovered_ids=tuple(requests.id[~covered].tolist()),
                       unreachable_ids=tuple(requests.id[~covered & ~reachable].tolist()), note=note)
    if exact or (exact is None and cov.matrix.nnz <= EXACT_MAX_PAIRS):
        plan = _with_exact(plan, cov, candidates, n_sites, exact_time_limit_s)
    return plan


def solve_exact(requests: Points, existing: Points, candidates: Points, *, radius_m: float = 250.0,
                n_sites: int = 10, time_limit_s: float = 10.0) -> tuple[tuple, float, bool, float]:
    """Solve the MCLP with HiGHS: (site ids, newly covered demand, proven optimal, relative gap)."""
    check_inputs(requests, candidates, radius_m, n_sites, 1)
    cov = _coverage(requests, existing, candidates, float(radius_m))
    solved = _mclp(cov, n_sites, time_limit_s)
    if solved is None:
        raise RuntimeError(f"HiGHS found no solution within {time_limit_s:g} s")
    chosen, value, optimal, gap = solved
    return tuple(candidates.id[chosen].tolist()), value, optimal, gap


def _with_exact(plan: RolloutPlan, cov: _Coverage, candidates: Points, n_sites: int, limit: float) -> RolloutPlan:
    start = time.perf_counter()
    solved = _mclp(cov, n_sites, limit)
    if solved is None:
        return replace(plan, note=plan.note + f" The exact model found no solution within {limit:g} s.")
    chosen, value, optimal, gap = solved
    greedy = sum(s.new_demand for s in plan.sites)
    exact = ExactSolution(site_ids=tuple(candidates.id[chosen].tolist()), new_demand=value, optimal=optimal,
                          gap=gap, greedy_ratio=greedy / value if value > 0 else 1.0,
                          seconds=time.perf_counter() - start)
    return replace(plan, exact=exact)


def _mclp(cov: _Coverage, n_sites: int, time_limit_s: float) -> tuple[np.ndarray, float, bool, float] | None:
    """Build the sparse MCLP (only useful candidates and reachable open requests) and solve it with HiGHS.

    Returns (chosen candidates, newly covered demand, proven optimal, relative gap), or None when HiGHS
    has no solution at the time limit.
    """
    import highspy

    m = cov.matrix
    useful = np.flatnonzero(np.diff(m.indptr) > 0)
    sub = m[useful]
    reach = np.unique(sub.indices)
    if not len(reach):
        return np.empty(0, np.int64), 0.0, True, 0.0
    n_x, n_y = len(useful), len(reach)
    # Columns: x (useful candidates), then y (reachable requests).
    # Rows: y_i - sum_{j covers i} x_j <= 0 for each request, then sum_j x_j <= n_sites.
    a = bmat([[-sub[:, reach].T, identity(n_y)], [np.ones((1, n_x)), None]], format="csc")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_x + n_y, n_y + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.r_[np.zeros(n_x), cov.weight[reach]]
    lp.col_lower_ = np.zeros(n_x + n_y)
    lp.col_upper_ = np.ones(n_x + n_y)
    lp.row_lower_ = np.full(n_y + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.r_[np.zeros(n_y), float(n_sites)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_x + [highspy.HighsVarType.kContinuous] * n_y
    solver = highspy.Highs()
    for option, setting in (("output_flag", False), ("threads", 1), ("time_limit", float(time_limit_s)),
                            ("mip_rel_gap", 0.0), ("random_seed", 0)):
        solver.setOptionValue(option, setting)
    solver.passModel(lp)
    solver.run()
    status = solver.getModelStatus()
    result = solver.getSolution()
    solution = np.asarray(result.col_value)
    if not result.value_valid or len(solution) < n_x:
        return None
    chosen = useful[np.flatnonzero(solution[:n_x] > 0.5)]
    value = float(cov.weight[np.unique(m[chosen].indices)].sum()) if len(chosen) else 0.0
    optimal = status == highspy.HighsModelStatus.kOptimal
    return chosen, value, optimal, 0.0 if optimal else float(solver.getInfo().mip_gap)
