// Ranking and rollout dashboards: draw the page's GeoJSON on the folium map and sort the table.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("dash-config").textContent);
  const map = window[config.map];
  const group = window[config.group];
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const colours = { planned_site: "#d55e00", request: "#e69f00", existing_point: "#0072b2" };

  // The page's words come with its config (config.messages); values are escaped, the tooltip takes HTML.
  function t(id, values) {
    let text = (config.messages || {})[id] || id;
    for (const [key, value] of Object.entries(values || {})) text = text.split("{" + key + "}").join(esc(value));
    return text;
  }

  function tooltip(p) {
    if (config.variant === "gaps") return t("dashboard.tip_gap", {rank: p.rank, cell: p.grid_id, population: p.population});
    if (config.variant === "rollout") {
      if (p.kind === "planned_site") return t("dashboard.tip_site", {order: p.order, phase: p.phase, site: p.site_id});
      if (p.kind === "request") {
        return t("dashboard.tip_request", {id: p.request_id, weight: p.weight,
          covered: t(p.covered_by === "uncovered" ? "dashboard.not_covered" : "dashboard.covered")});
      }
      return t("dashboard.tip_existing");
    }
    return t("dashboard.tip_place", {rank: p.rank, score: p.score, people: p.people, pins: p.pins});
  }

  if (map && group && window.L) {
    const layer = L.geoJSON(config.collection, {
      style: () => ({ color: config.colour, weight: 2, fillOpacity: 0.25 }),
      pointToLayer: (feature, latlng) => {
        const p = feature.properties;
        const uncovered = p.kind === "request" && p.covered_by === "uncovered";
        return L.circleMarker(latlng, {
          radius: p.kind === "planned_site" ? 9 : p.kind === "existing_point" ? 5 : 4,
          color: uncovered ? "#555" : colours[p.kind] || config.colour, weight: 1,
          fillOpacity: uncovered ? 0.2 : 0.8,
        });
      },
      onEachFeature: (feature, lyr) => lyr.bindTooltip(tooltip(feature.properties)),
    });
    layer.addTo(group);
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { maxZoom: 16 });
  }

  const table = document.getElementById("dash-table");
  if (!table) return;
  table.querySelectorAll("th button[data-key]").forEach((button) => {
    button.addEventListener("click", () => {
      const th = button.parentElement;
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const index = Array.from(th.parentElement.children).indexOf(th);
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      const value = (row) => {
        const raw = row.cells[index].dataset.value;
        const number = Number(raw);
        return raw !== "" && !Number.isNaN(number) ? number : raw;
      };
      rows.sort((a, b) => {
        const x = value(a), y = value(b);
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach((row) => body.appendChild(row));
    });
  });
})();
