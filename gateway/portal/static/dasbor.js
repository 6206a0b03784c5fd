// Dasbor Provinsi: draws the bar chart from the figures the page carries (same as the table).
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data-grafik').textContent);
  var select = document.getElementById('pilih-angka');
  var status = document.getElementById('grafik-status');
  var canvas = document.getElementById('grafik-wilayah');
  if (typeof Chart === 'undefined') { status.textContent = 'Grafik tidak dapat dimuat; lihat tabel.'; return; }
  var id = new Intl.NumberFormat('id-ID', { maximumFractionDigits: 1 });
  function config(series) {
    return {
      type: 'bar',
      data: { labels: data.labels, datasets: [{ label: series.label, data: series.values, backgroundColor: '#0b3d91' }] },
      options: {
        indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) {
          return c.raw === null ? 'tidak tersedia' : id.format(c.raw) + (series.percent ? '%' : '');
        } } } },
        scales: { x: { ticks: { callback: function (v) { return id.format(v) + (series.percent ? '%' : ''); } } } }
      }
    };
  }
  var chart = new Chart(canvas, config(data.series[0]));
  function show(i) {
    var series = data.series[i];
    chart.destroy();
    chart = new Chart(canvas, config(series));
    var missing = series.values.every(function (v) { return v === null; });
    status.textContent = missing ? series.label + ': tidak tersedia.' : 'Grafik: ' + series.label + '.';
  }
  select.addEventListener('change', function () { show(Number(select.value)); });
  show(0);
})();
