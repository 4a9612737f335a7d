// Draws the dashboard's charts from the data each canvas carries (no inline script: CSP).
(function () {
  "use strict";
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas.dashboard-chart[data-chart]").forEach(function (canvas) {
      var data = JSON.parse(canvas.getAttribute("data-chart"));
      var rtl = document.documentElement.dir === "rtl";
      new window.Chart(canvas, {
        data: {
          labels: data.labels,
          datasets: [
            { type: "bar", label: canvas.dataset.labelReceived, data: data.received, yAxisID: "y", backgroundColor: "#9ec5d8" },
            { type: "bar", label: canvas.dataset.labelOnTime, data: data.on_time, yAxisID: "y", backgroundColor: "#3f8f5f" },
            { type: "line", label: canvas.dataset.labelWait, data: data.wait_days, yAxisID: "days", borderColor: "#a0160d", tension: 0.2 }
          ]
        },
        options: {
          responsive: true,
          animation: false,
          locale: document.documentElement.lang === "fa" ? "fa-IR" : "en",
          plugins: { legend: { rtl: rtl } },
          scales: {
            x: { reverse: rtl },
            y: { beginAtZero: true, position: rtl ? "right" : "left" },
            days: { beginAtZero: true, position: rtl ? "left" : "right", grid: { drawOnChartArea: false } }
          }
        }
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
