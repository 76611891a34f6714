// Porthole's browser script. Pages are complete without it; it adds live output,
// cancelling, sortable tables, charts, auto-refreshing cards and relative times.
// All text from the server is inserted with textContent; HTML fragments come only
// from Porthole's own server, already escaped there.
'use strict';

(function () {
  function describeAge(seconds) {
    if (seconds < 60) return seconds + ' s ago';
    if (seconds < 3600) return Math.floor(seconds / 60) + ' min ago';
    if (seconds < 86400) return Math.floor(seconds / 3600) + ' h ago';
    return Math.floor(seconds / 86400) + ' d ago';
  }

  function refreshTimes(root) {
    root.querySelectorAll('time.ago').forEach(function (el) {
      var seconds = Math.max(0, Math.round((Date.now() - Date.parse(el.getAttribute('datetime'))) / 1000));
      el.textContent = (el.dataset.prefix || '') + describeAge(seconds);
    });
  }

  // Sortable tables: a header button sorts by its column, numbers as numbers.
  function enableSorting(root) {
    root.querySelectorAll('table.sortable').forEach(function (table) {
      if (table.dataset.sortReady) return;
      table.dataset.sortReady = 'true';
      var headers = Array.prototype.slice.call(table.querySelectorAll('thead th'));
      headers.forEach(function (th, column) {
        var button = th.querySelector('button.sort');
        if (!button) return;
        button.addEventListener('click', function () {
          var ascending = th.getAttribute('aria-sort') !== 'ascending';
          headers.forEach(function (other) { other.setAttribute('aria-sort', 'none'); });
          th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[column], y = b.cells[column];
            var nx = x && x.dataset.value !== undefined ? Number(x.dataset.value) : NaN;
            var ny = y && y.dataset.value !== undefined ? Number(y.dataset.value) : NaN;
            var order;
            if (!isNaN(nx) && !isNaN(ny)) order = nx - ny;
            else if (!isNaN(nx)) order = -1;
            else if (!isNaN(ny)) order = 1;
            else order = (x ? x.textContent : '').localeCompare(y ? y.textContent : '', undefined, { numeric: true });
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  // Charts follow the page's colours, so they read well in light and dark mode.
  var PALETTE = ['#1a73e8', '#e8710a', '#188038', '#d93025', '#9334e6', '#12b5cb', '#f9ab00', '#5f6368'];
  var DARK_PALETTE = ['#8ab4f8', '#fcad70', '#81c995', '#f28b82', '#c58af9', '#78d9ec', '#fdd663', '#bdc1c6'];

  function drawCharts(root) {
    if (typeof window.Chart === 'undefined') return;
    var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    var colours = dark ? DARK_PALETTE : PALETTE;
    var style = getComputedStyle(document.documentElement);
    var text = style.getPropertyValue('--fg').trim() || (dark ? '#e8eaed' : '#1d1f21');
    var grid = style.getPropertyValue('--line').trim() || (dark ? '#363a40' : '#dcdfe3');
    root.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      canvas.dataset.drawn = 'true';
      var spec = JSON.parse(canvas.dataset.chart);
      var round = spec.type === 'pie' || spec.type === 'doughnut';
      var datasets = spec.datasets.map(function (set, i) {
        var colour = colours[i % colours.length];
        return {
          label: set.label,
          data: set.data,
          backgroundColor: round ? spec.labels.map(function (_, j) { return colours[j % colours.length]; }) : colour,
          borderColor: round ? (dark ? '#17191c' : '#ffffff') : colour,
          borderWidth: round ? 2 : 2,
          tension: 0.25,
          spanGaps: true,
        };
      });
      var scales = round ? {} : {
        x: { ticks: { color: text }, grid: { color: grid } },
        y: { ticks: { color: text }, grid: { color: grid }, beginAtZero: true },
      };
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { labels: { color: text } } },
          scales: scales,
        },
      });
    });
  }

  function enhance(root) {
    refreshTimes(root);
    enableSorting(root);
    drawCharts(root);
  }

  // Dashboard cards refresh on their own schedule, and never while the tab is hidden.
  function startCards() {
    document.querySelectorAll('li.card').forEach(function (card) {
      var every = Number(card.dataset.refreshMs || 0);
      var busy = false;
      function load() {
        if (busy || document.visibilityState === 'hidden') return;
        busy = true;
        fetch('/actions/' + encodeURIComponent(card.dataset.action) + '/card', { headers: { accept: 'text/html' } })
          .then(function (res) { return res.ok ? res.text() : Promise.reject(new Error(String(res.status))); })
          .then(function (html) {
            var body = card.querySelector('.card-body');
            body.innerHTML = html;
            card.removeAttribute('data-pending');
            enhance(body);
          })
          .catch(function () { /* the card keeps what it showed; the next tick tries again */ })
          .then(function () { busy = false; });
      }
      if (card.dataset.pending) load();
      if (every > 0) {
        setInterval(load, every);
        document.addEventListener('visibilitychange', function () {
          if (document.visibilityState === 'visible') load();
        });
      }
    });
  }

  // With sign-in on, requests that change things carry the page's CSRF token.
  function withCsrf(headers) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) headers['x-csrf-token'] = meta.getAttribute('content');
    return headers;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clearFieldErrors(form) {
    form.querySelectorAll('.field-error.live').forEach(function (node) { node.remove(); });
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (input) { input.removeAttribute('aria-invalid'); });
    form.querySelectorAll('.error.live').forEach(function (node) { node.remove(); });
  }

  function showFieldErrors(form, problems) {
    var first = null;
    problems.forEach(function (problem) {
      var input = form.querySelector('#param-' + CSS.escape(problem.param));
      if (!input) {
        var general = el('div', { class: 'error live', role: 'alert' }, problem.param + ': ' + problem.reason);
        form.insertBefore(general, form.firstChild);
        return;
      }
      var id = input.id + '-error';
      var label = form.querySelector('label[for="' + input.id + '"]');
      var name = label ? label.firstChild.textContent.trim() : problem.param;
      var message = el('p', { class: 'field-error live', id: id }, name + ' ' + problem.reason + '. Allowed: ' + problem.allowed + '.');
      input.closest('.field').appendChild(message);
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', ((input.getAttribute('aria-describedby') || '') + ' ' + id).trim());
      first = first || input;
    });
    if (first) first.focus();
  }

  function formParams(form) {
    var params = {};
    new FormData(form).forEach(function (value, name) {
      if (name.charAt(0) !== '_' && value !== '') params[name] = value;
    });
    return params;
  }

  // Follows a run's event stream into the result section: output as it is printed, then the outcome.
  function follow(section, actionId, runId, cancelButton, done) {
    var output = section.querySelector('#output');
    var errors = section.querySelector('#errors');
    var status = section.querySelector('#run-status');
    var source = new EventSource('/api/actions/' + encodeURIComponent(actionId) + '/runs/' + encodeURIComponent(runId) + '/events');
    status.textContent = 'Running…';
    if (cancelButton) {
      cancelButton.hidden = false;
      cancelButton.disabled = false;
      cancelButton.onclick = function () {
        cancelButton.disabled = true;
        status.textContent = 'Cancelling…';
        fetch('/api/actions/' + encodeURIComponent(actionId) + '/runs/' + encodeURIComponent(runId), { method: 'DELETE', headers: withCsrf({}) });
      };
    }
    source.addEventListener('output', function (event) {
      var chunk = JSON.parse(event.data);
      var target = chunk.stream === 'stderr' ? errors : output;
      target.hidden = false;
      var atBottom = target.scrollTop + target.clientHeight >= target.scrollHeight - 4;
      target.appendChild(document.createTextNode(chunk.text));
      if (atBottom) target.scrollTop = target.scrollHeight;
    });
    source.addEventListener('finished', function (event) {
      source.close();
      var result = JSON.parse(event.data);
      var exit = result.kind === 'text' ? ' · exit code ' + (result.exitCode === null ? 'none (' + (result.signal || 'stopped') + ')' : result.exitCode) : '';
      status.textContent = result.outcome + ' in ' + result.durationMs + ' ms' + exit;
      status.dataset.outcome = result.outcome;
      section.dataset.outcome = result.outcome;
      if (result.truncated && (result.truncated.stdout || result.truncated.stderr)) {
        status.parentNode.insertBefore(el('p', { class: 'truncated', role: 'note' }, 'Output cut: it went past the output limit.'), status);
      }
      if (result.error) status.parentNode.insertBefore(el('p', { class: 'error', role: 'alert' }, result.error.message), status);
      if (cancelButton) cancelButton.hidden = true;
      if (done) done(result);
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) status.textContent = 'Lost contact with the server; the run goes on. See its history.';
    };
  }

  function outputSection(section) {
    section.hidden = false;
    section.textContent = '';
    section.appendChild(el('h2', {}, 'Output'));
    section.appendChild(el('pre', { id: 'output', class: 'output', tabindex: '0', 'aria-label': 'Output' }));
    var errors = el('pre', { id: 'errors', class: 'output stderr', tabindex: '0', 'aria-label': 'Error output' });
    errors.hidden = true;
    section.appendChild(errors);
    section.appendChild(el('p', { id: 'run-status', class: 'meta' }, 'Starting…'));
  }

  function confirmFirst(question) {
    return new Promise(function (resolve) {
      if (typeof HTMLDialogElement === 'undefined') return resolve(window.confirm(question));
      var dialog = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-question' });
      dialog.appendChild(el('p', { id: 'confirm-question', class: 'question' }, question));
      var buttons = el('div', { class: 'buttons' });
      var yes = el('button', { type: 'button', class: 'primary danger' }, 'Yes, run it');
      var no = el('button', { type: 'button' }, 'Cancel');
      buttons.appendChild(yes);
      buttons.appendChild(no);
      dialog.appendChild(buttons);
      document.body.appendChild(dialog);
      function close(answer) { dialog.close(); dialog.remove(); resolve(answer); }
      yes.onclick = function () { close(true); };
      no.onclick = function () { close(false); };
      dialog.addEventListener('cancel', function (event) { event.preventDefault(); close(false); });
      dialog.showModal();
      no.focus();
    });
  }

  // Command forms run through the API so output streams live; everything else submits normally.
  function startForms() {
    var form = document.getElementById('run-form');
    if (!form || !form.dataset.stream || typeof EventSource === 'undefined') return;
    var runButton = document.getElementById('run-button');
    var cancelButton = document.getElementById('cancel-button');
    var section = document.getElementById('result');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clearFieldErrors(form);
      var ask = form.dataset.confirm ? confirmFirst(form.dataset.confirm) : Promise.resolve(true);
      ask.then(function (go) {
        if (!go) return;
        runButton.disabled = true;
        fetch('/api/actions/' + encodeURIComponent(form.dataset.action) + '/runs?wait=false', {
          method: 'POST',
          headers: withCsrf({ 'content-type': 'application/json', accept: 'application/json' }),
          body: JSON.stringify({ params: formParams(form) }),
        })
          .then(function (res) { return res.json().then(function (body) { return { status: res.status, body: body }; }); })
          .then(function (reply) {
            if (reply.status === 400 && reply.body.error && reply.body.error.problems) {
              showFieldErrors(form, reply.body.error.problems);
              runButton.disabled = false;
              return;
            }
            if (reply.status !== 202) {
              form.insertBefore(el('div', { class: 'error live', role: 'alert' }, (reply.body.error && reply.body.error.message) || 'The run could not start.'), form.firstChild);
              runButton.disabled = false;
              return;
            }
            outputSection(section);
            follow(section, form.dataset.action, reply.body.id, cancelButton, function () { runButton.disabled = false; });
          })
          .catch(function () {
            runButton.disabled = false;
            form.insertBefore(el('div', { class: 'error live', role: 'alert' }, 'Could not reach the server.'), form.firstChild);
          });
      });
    });
  }

  function startLiveRun() {
    var section = document.querySelector('section[data-live-run]');
    if (!section || typeof EventSource === 'undefined') return;
    follow(section, section.dataset.action, section.dataset.liveRun, null, null);
  }

  function start() {
    enhance(document);
    setInterval(function () { refreshTimes(document); }, 5000);
    startCards();
    startForms();
    startLiveRun();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
