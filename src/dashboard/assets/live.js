// float dashboard: live state from Prometheus' HTTP API, proxied by the frontend
// at ./api/v1/query (same origin). Without it (a local copy, or no monitoring) the
// page stays as rendered and nothing is reported. Values from Prometheus are only
// ever set as text, never as markup.
(function () {
  'use strict';
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return;
  var body = document.body;
  var root = body.getAttribute('data-root') || '';
  var scopeService = body.getAttribute('data-service');
  var scopeHost = body.getAttribute('data-host');

  function query(q) {
    return fetch(root + 'api/v1/query?query=' + encodeURIComponent(q), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (j) {
        if (!j || j.status !== 'success' || !j.data || j.data.resultType !== 'vector') throw new Error('not a vector');
        return j.data.result;
      });
  }

  function short(h) {
    return h ? String(h).split(':')[0].split('.')[0] : '';
  }
  function labelsOf(m) {
    return { service: m.service || m.float_service || '', host: short(m.host || m.instance) };
  }

  function markInstances(up, alerts) {
    var state = {};
    up.forEach(function (s) {
      var l = labelsOf(s.metric);
      var k = l.service + '\u0000' + l.host;
      var v = s.value && s.value[1] === '1' ? 'up' : 'down';
      if (state[k] !== 'down') state[k] = v;
    });
    var alerting = {};
    alerts.forEach(function (s) {
      var l = labelsOf(s.metric);
      alerting[l.service + '\u0000' + l.host] = true;
    });
    var cells = document.querySelectorAll('.state[data-service][data-host]');
    var counts = { up: 0, down: 0 };
    for (var i = 0; i < cells.length; i++) {
      var c = cells[i];
      var k = c.getAttribute('data-service') + '\u0000' + c.getAttribute('data-host');
      var st = state[k] || 'unknown';
      c.classList.remove('up', 'down', 'unknown', 'alert');
      c.classList.add(st);
      if (alerting[k]) c.classList.add('alert');
      c.textContent = st === 'up' ? 'up' : st === 'down' ? 'down' : '?';
      c.title = st === 'unknown' ? 'no metrics target for this instance' : 'instance ' + st + (alerting[k] ? ', alert firing' : '');
      if (st !== 'unknown') counts[st]++;
    }
    return counts;
  }

  function showAlerts(alerts) {
    var box = document.getElementById('alerts');
    if (!box) return 0;
    var ul = box.querySelector('ul');
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    var shown = 0;
    alerts.forEach(function (s) {
      var l = labelsOf(s.metric);
      if (scopeService && l.service !== scopeService) return;
      if (scopeHost && l.host !== scopeHost) return;
      var li = document.createElement('li');
      li.className = 'alert severity-' + String(s.metric.severity || 'none').replace(/[^a-z0-9-]/gi, '');
      var parts = [s.metric.alertname || 'alert'];
      if (l.service) parts.push('service ' + l.service);
      if (l.host) parts.push('host ' + l.host);
      if (s.metric.severity) parts.push('severity ' + s.metric.severity);
      li.textContent = parts.join(' \u00b7 ');
      ul.appendChild(li);
      shown++;
    });
    box.hidden = shown === 0;
    return shown;
  }

  function markBackups(samples) {
    var last = {};
    samples.forEach(function (s) {
      var k = (s.metric.service || '') + '\u0000' + (s.metric.dataset || '');
      var t = Number(s.value && s.value[1]);
      if (isFinite(t) && (!last[k] || t > last[k])) last[k] = t;
    });
    var cells = document.querySelectorAll('.backup[data-service][data-dataset]');
    for (var i = 0; i < cells.length; i++) {
      var k = cells[i].getAttribute('data-service') + '\u0000' + cells[i].getAttribute('data-dataset');
      if (last[k]) cells[i].textContent = new Date(last[k] * 1000).toISOString().replace('.000Z', 'Z');
    }
  }

  function refresh() {
    Promise.all([query('up'), query('ALERTS{alertstate="firing"}')])
      .then(function (r) {
        var counts = markInstances(r[0], r[1]);
        var firing = showAlerts(r[1]);
        var status = document.getElementById('live-status');
        status.textContent = 'live: ' + counts.up + ' up, ' + counts.down + ' down, ' + firing + ' alerts';
        status.className = 'live' + (counts.down || firing ? ' bad' : ' good');
        status.hidden = false;
        return query('float_backup_last_success_timestamp_seconds').then(markBackups, function () {});
      })
      .catch(function () {
        // No Prometheus behind this origin: the static view is all there is.
      });
  }
  refresh();
  setInterval(refresh, 30000);
})();
