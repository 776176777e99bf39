// Draws the staff charts from the JSON the page embeds (no request leaves the site).
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var colours = ["#0f5fa8", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#dc2626",
                 "#65a30d", "#475569", "#ea580c"];
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { canvas.chart = new Chart(canvas, config); }
  }
  // Bars by month, one stacked dataset per key of ``labels`` (key -> legend).
  function stackedByMonth(id, rows, labels) {
    draw(id, {
      type: "bar",
      data: { labels: rows.map(function (r) { return r.month; }),
              datasets: Object.keys(labels).map(function (key, i) {
                return { label: labels[key], data: rows.map(function (r) { return r[key]; }),
                         backgroundColor: colours[i % colours.length] };
              }) },
      options: { scales: { x: { stacked: true }, y: { stacked: true } }, animation: false }
    });
  }
  draw("renewals", {
    type: "bar",
    data: { labels: data.renewals.map(function (r) { return r.month; }),
            // fees: one dataset per currency, never added together
            datasets: Object.keys(data.renewalLabels.fees).map(function (currency, i) {
              return { label: data.renewalLabels.fees[currency],
                       data: data.renewals.map(function (r) { return r.fees[currency] || 0; }),
                       backgroundColor: colours[(i * 3) % colours.length], yAxisID: "y" };
            }).concat([
              { label: data.renewalLabels.periods, data: data.renewals.map(function (r) { return r.periods; }),
                backgroundColor: colours[2], yAxisID: "y1" }
            ]) },
    options: { animation: false, scales: { y: { position: "left" },
               y1: { position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } } } }
  });
  // One chart per currency: amounts of two currencies are never added.
  Object.keys(data.revenue || {}).forEach(function (currency) {
    stackedByMonth("revenue-" + currency, data.revenue[currency], data.labels);
    stackedByMonth("revenue-groups-" + currency, data.groups[currency], data.groupLabels);
  });
  Object.keys(data.ageing || {}).forEach(function (currency) {
    var ageing = data.ageing[currency];
    draw("ageing-" + currency, {
      type: "bar",
      data: { labels: Object.keys(ageing),
              datasets: [{ label: currency, data: Object.values(ageing), backgroundColor: colours[6] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, animation: false }
    });
  });
})();
