// Polls the progress of invoice runs that are not finished and updates their rows in place.
(function () {
  function poll(row) {
    fetch(row.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        var bar = row.querySelector("progress");
        bar.max = Math.max(run.customers_total, 1);
        bar.value = run.customers_done;
        row.querySelector(".count").textContent = run.customers_done + " / " + run.customers_total;
        row.querySelector(".invoices").textContent = run.invoices_created;
        row.dataset.status = run.status;
        if (run.status === "pending" || run.status === "running") { setTimeout(function () { poll(row); }, 1000); }
        else { row.querySelector(".status").textContent = run.status; }
      });
  }
  document.querySelectorAll("tr.run").forEach(function (row) {
    if (row.dataset.status === "pending" || row.dataset.status === "running") { poll(row); }
  });
})();
