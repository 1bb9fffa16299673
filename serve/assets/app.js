// rmqtopo dlq serve: the review page. Plain DOM, no framework. Every byte that comes from a
// message or a name is put in the page with textContent (text nodes), never as markup.
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  const $ = (id) => document.getElementById(id);
  const state = { vhost: null, queue: null, messages: [], selected: new Set(), groupsDoc: null,
    scope: null, job: null, poll: null, overviewTimer: null, readQuorum: false, quorum: false };

  // el('td', {class: 'n'}, 'text', child...): strings become text nodes
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) for (const k of Object.keys(attrs)) {
      if (k === 'class') e.className = attrs[k];
      else if (k === 'onclick') e.addEventListener('click', attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function show(id) {
    for (const s of ['overview', 'queue', 'detail', 'action']) $(s).hidden = s !== id && !(id === 'detail' && s === 'queue') && !(id === 'action' && s === 'queue');
  }
  function status(msg, bad) { const s = $('status'); s.textContent = msg || ''; s.className = bad ? 'bad' : ''; }
  function txt(v) { return v === null || v === undefined ? '–' : String(v); }

  async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: {} };
    if (method === 'POST') {
      opts.headers['X-CSRF-Token'] = csrf;
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    const r = await fetch(path, opts);
    let doc = null;
    try { doc = await r.json(); } catch (e) { doc = { error: 'HTTP ' + r.status }; }
    if (!r.ok) {
      const err = new Error((doc && doc.error) || ('HTTP ' + r.status));
      err.status = r.status; err.doc = doc;
      throw err;
    }
    return doc;
  }
  // A 409 with needs=read_quorum: a read of a quorum queue raises every message's delivery
  // count, so nothing was read. Shows the server's warning (as text) and a button that repeats
  // the request with the consent; true when e was such an answer.
  function consentPrompt(e, list, retry) {
    if (!e.doc || e.status !== 409 || e.doc.needs !== 'read_quorum') return false;
    state.quorum = true;
    const b = el('button', { type: 'button', class: 'read-anyway', onclick: () => { clear(list); state.readQuorum = true; retry(); } },
      'Read anyway (raises delivery counts)');
    clear(list).appendChild(el('li', { class: 'consent' }, e.doc.error, ' ', b));
    status('');
    return true;
  }
  function consentArg() { return state.readQuorum ? 'read_quorum=1' : ''; }
  const qpath = (v, q) => '/api/dlqs/' + encodeURIComponent(v) + '/' + encodeURIComponent(q);

  function age(s) {
    if (s === null || s === undefined) return '–';
    s = Math.round(s);
    if (s >= 86400) return Math.floor(s / 86400) + 'd' + Math.floor((s % 86400) / 3600) + 'h';
    if (s >= 3600) return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
    if (s >= 60) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
    return s + 's';
  }
  function size(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }

  // --- overview ------------------------------------------------------------------------------
  async function loadOverview() {
    status('reading the dead-letter queues…');
    try {
      const doc = await api('GET', '/api/dlqs');
      const tb = clear($('overview-table').tBodies[0]);
      for (const q of doc.queues) {
        const reasons = (q.reasons || []).slice(0, 3).map((r) => r.queue + ':' + r.reason + '=' + r.count).join(', ');
        const st = q.state || '-';
        const open = el('button', { type: 'button', class: 'open-queue', onclick: () => openQueue(q.vhost, q.queue) }, 'open');
        tb.appendChild(el('tr', { 'data-queue': q.queue },
          el('td', null, q.vhost), el('td', { class: 'qname' }, q.queue), el('td', null, txt(q.type)),
          el('td', { class: 'n messages' }, txt(q.messages)), el('td', { class: 'n' }, txt(q.consumers)),
          el('td', { class: 'n' }, q.rate_per_second === null || q.rate_per_second === undefined ? '–' : (q.rate_per_second * 60).toFixed(1)),
          el('td', null, q.not_sampled ? 'n/a' : age(q.oldest_age_seconds)),
          el('td', { class: 'state state-' + st }, st),
          el('td', null, q.not_sampled ? 'n/a: ' + q.not_sampled : (reasons || '–')),
          el('td', null, q.found ? open : txt(q.error))));
      }
      if (!doc.queues.length) tb.appendChild(el('tr', null, el('td', { colspan: 10 }, 'no dead-letter queues')));
      $('overview-note').textContent = 'measured ' + doc.time + '; rate: ' + doc.rate;
      status('');
    } catch (e) { status('overview: ' + e.message, true); }
  }

  // --- a queue -------------------------------------------------------------------------------
  async function openQueue(vhost, queue) {
    state.vhost = vhost; state.queue = queue; state.selected.clear();
    state.readQuorum = false; state.quorum = false; // consent is given per queue opened
    $('queue-title').textContent = queue + ' (vhost ' + vhost + ')';
    clear($('messages-table').tBodies[0]); $('messages-note').textContent = '';
    clear($('groups-table').tBodies[0]); clear($('queue-warnings')); $('queue-note').textContent = '';
    show('queue');
    if (state.overviewTimer) { clearInterval(state.overviewTimer); state.overviewTimer = null; }
    await readQueue();
  }
  // The groups, then the messages; a quorum queue is read once (the groups): every read raises
  // its messages' delivery counts, so its messages are read when asked for.
  async function readQueue() {
    await loadGroups();
    if (!state.quorum) await loadMessages();
    else $('messages-note').textContent = 'a quorum queue: its messages are read when you ask ("show" or a group\'s "messages"), as every read raises their delivery counts';
  }

  async function loadGroups() {
    status('reading ' + state.queue + ' (nothing is taken)…');
    try {
      const doc = await api('GET', qpath(state.vhost, state.queue) + '/groups' + (state.readQuorum ? '?' + consentArg() : ''));
      state.groupsDoc = doc;
      state.quorum = doc.type === 'quorum';
      const w = clear($('queue-warnings'));
      for (const m of doc.warnings) w.appendChild(el('li', null, m));
      $('queue-note').textContent = doc.read + ' of ' + doc.snapshot + ' ready message(s) read and given back' +
        (doc.type ? '; a ' + doc.type + ' queue' : '') + (doc.type === 'quorum' ? ': every read raises the delivery count (x-delivery-count' +
        (doc.delivery_limit !== null ? ', limit ' + doc.delivery_limit : '') + (doc.max_delivery_count !== null ? ', highest now ' + doc.max_delivery_count : '') + ')' : '');
      const tb = clear($('groups-table').tBodies[0]);
      for (const g of doc.groups) {
        const f = { from_queue: g.queue, reason: g.reason };
        const act = (kind) => el('button', { type: 'button', class: 'group-' + kind, onclick: () => openAction(kind, { kind: 'group', filter: f, count: g.count }) }, kind + '…');
        tb.appendChild(el('tr', { class: 'group' },
          el('td', { class: 'gqueue' }, g.queue === null ? '(no x-death)' : g.queue), el('td', { class: 'greason' }, txt(g.reason)),
          el('td', { class: 'n gcount' }, g.count), el('td', null, txt(g.first_death)), el('td', null, txt(g.last_death)),
          el('td', null, el('button', { type: 'button', class: 'group-messages', onclick: () => { setFilters(f); loadMessages(); } }, 'messages'),
            ' ', g.queue === null ? null : act('replay'), ' ', act('park'), ' ', act('archive'))));
      }
      if (!doc.groups.length) tb.appendChild(el('tr', null, el('td', { colspan: 6 }, 'the queue holds no ready messages')));
      status('');
    } catch (e) {
      if (consentPrompt(e, $('queue-warnings'), readQueue)) {
        clear($('groups-table').tBodies[0]);
        $('queue-note').textContent = 'nothing was read: ' + e.doc.messages + ' ready message(s)' + (e.doc.delivery_limit !== null ? ', delivery limit ' + e.doc.delivery_limit : '');
        return;
      }
      status(state.queue + ': ' + e.message, true);
    }
  }

  function filters() {
    const f = $('filters').elements, o = {};
    for (const k of ['reason', 'from_queue', 'older_than', 'search']) if (f[k].value.trim()) o[k] = f[k].value.trim();
    return o;
  }
  function setFilters(o) {
    const f = $('filters').elements;
    for (const k of ['reason', 'from_queue', 'older_than', 'search']) f[k].value = o[k] || '';
  }

  async function loadMessages() {
    const f = filters(), p = new URLSearchParams(f);
    const limit = parseInt($('filters').elements.limit.value, 10);
    if (limit > 0) p.set('limit', String(limit));
    if (state.readQuorum) p.set('read_quorum', '1');
    status('reading messages (nothing is taken)…');
    try {
      const doc = await api('GET', qpath(state.vhost, state.queue) + '/messages?' + p.toString());
      state.messages = doc.messages;
      state.selected.clear();
      updateSelection();
      const tb = clear($('messages-table').tBodies[0]);
      doc.messages.forEach((m, i) => {
        const cb = el('input', { type: 'checkbox', class: 'pick' });
        cb.disabled = m.message_id === null;
        cb.addEventListener('change', () => { if (cb.checked) state.selected.add(m.message_id); else state.selected.delete(m.message_id); updateSelection(); });
        const preview = m.body.encoding === 'text' ? m.body.text.slice(0, 80) : '<binary> ' + m.body.hex.slice(0, 32);
        tb.appendChild(el('tr', { class: 'msg' },
          el('td', null, cb), el('td', { class: 'n' }, m.position),
          el('td', null, el('a', { href: '#', class: 'open-message', onclick: (ev) => { ev.preventDefault(); openMessage(i); } }, txt(m.message_id))),
          el('td', null, txt(m.queue)), el('td', null, txt(m.reason)), el('td', { class: 'n' }, m.count),
          el('td', null, txt(m.first_death)), el('td', null, m.routing_keys.join(', ')),
          el('td', { class: 'n' }, size(m.body_size)), el('td', { class: 'preview' }, preview)));
      });
      $('messages-note').textContent = doc.matched + ' shown of ' + doc.read + ' read (' + doc.snapshot + ' ready)' + (doc.more ? '; more match: raise "show"' : '') + '; nothing was taken';
      status('');
    } catch (e) {
      if (consentPrompt(e, $('queue-warnings'), loadMessages)) {
        clear($('messages-table').tBodies[0]);
        $('messages-note').textContent = 'nothing was read';
        return;
      }
      status('messages: ' + e.message, true);
    }
  }
  function updateSelection() {
    const b = $('act-selection');
    b.textContent = 'Act on selection (' + state.selected.size + ')…';
    b.disabled = state.selected.size === 0;
  }

  // --- one message ---------------------------------------------------------------------------
  function typed(v) {
    // the typed JSON of msgjson.c: {"type": T, "value": V}, tables and arrays nested
    if (v && typeof v === 'object' && 'type' in v) {
      if ('base64' in v) return [v.type, 'base64 ' + v.base64];
      const val = v.value;
      if (v.type === 'table' || v.type === 'array') return [v.type, JSON.stringify(val)];
      return [v.type, typeof val === 'object' ? JSON.stringify(val) : String(val)];
    }
    return ['', JSON.stringify(v)];
  }
  function kvRow(k, v) { return el('tr', null, el('th', null, k), el('td', null, txt(v))); }

  function openMessage(i) {
    const m = state.messages[i];
    show('detail');
    $('detail-title').textContent = 'Message ' + txt(m.message_id) + ' (#' + m.position + ')';
    const d = clear($('detail-death').tBodies[0]);
    d.appendChild(kvRow('died in', m.queue)); d.appendChild(kvRow('reason', m.reason));
    d.appendChild(kvRow('deaths there', m.count)); d.appendChild(kvRow('first death', m.first_death));
    d.appendChild(kvRow('came by exchange', m.exchange === '' ? '(the default exchange)' : m.exchange)); d.appendChild(kvRow('routing keys', m.routing_keys.join(', ')));
    d.appendChild(kvRow('delivered by', m.delivery_exchange + ' / ' + m.delivery_routing_key));
    if (m.delivery_count !== undefined) d.appendChild(kvRow('x-delivery-count', m.delivery_count));
    const x = clear($('detail-xdeath').tBodies[0]);
    for (const e of m.x_death) x.appendChild(el('tr', null, el('td', null, txt(e.queue)), el('td', null, txt(e.reason)),
      el('td', { class: 'n' }, txt(e.count)), el('td', null, txt(e.time)), el('td', null, txt(e.exchange)), el('td', null, e.routing_keys.join(', '))));
    const p = clear($('detail-props').tBodies[0]);
    for (const k of Object.keys(m.properties)) {
      const v = m.properties[k];
      p.appendChild(kvRow(k, typeof v === 'object' ? JSON.stringify(v) : v));
    }
    const h = clear($('detail-headers').tBodies[0]);
    const entries = Array.isArray(m.headers) ? m.headers : Object.entries(m.headers);
    for (const [k, v] of entries) {
      const [t, s] = typed(v);
      h.appendChild(el('tr', { class: 'header' }, el('td', { class: 'hkey' }, k), el('td', null, t), el('td', { class: 'hval' }, s)));
    }
    const b = $('detail-body');
    let text;
    if (m.body.encoding === 'text') {
      text = m.body.text;
      try { text = JSON.stringify(JSON.parse(text), null, 2); $('detail-body-info').textContent = 'JSON, ' + size(m.body_size); }
      catch (e) { $('detail-body-info').textContent = 'text, ' + size(m.body_size); }
    } else {
      text = m.body.hex.replace(/(..)/g, '$1 ').replace(/((?:.. ){16})/g, '$1\n');
      $('detail-body-info').textContent = 'binary, ' + size(m.body_size) + ', hex';
    }
    if (m.body.truncated) $('detail-body-info').textContent += ' (shown in part)';
    b.textContent = text;
    $('detail').scrollIntoView();
  }

  // --- actions -------------------------------------------------------------------------------
  function scopeText(scope) {
    if (scope.kind === 'group') return 'the group: died in ' + txt(scope.filter.from_queue) + ', reason ' + txt(scope.filter.reason) + ' (' + scope.count + ' read)';
    if (scope.kind === 'filter') { const f = scope.filter; const ks = Object.keys(f); return ks.length ? 'the filter: ' + ks.map((k) => k + '=' + f[k]).join(', ') : 'every message of the queue'; }
    return 'the ' + scope.filter.message_ids.length + ' selected message(s)';
  }
  function openAction(kind, scope) {
    state.scope = scope;
    const f = $('action-form').elements;
    f.kind.value = kind;
    kindChanged();
    $('action-title').textContent = 'Act on ' + state.queue;
    $('action-scope').textContent = 'Acting on ' + scopeText(scope) + '. Preview first: it takes nothing.';
    $('action-confirm').disabled = true;
    $('job').hidden = true;
    show('action');
    $('action').scrollIntoView();
  }
  function kindChanged() {
    const k = $('action-form').elements.kind.value;
    $('replay-fields').hidden = k !== 'replay';
    $('park-fields').hidden = k !== 'park';
    $('archive-fields').hidden = k !== 'archive';
    $('action-confirm').disabled = true;
  }
  function actionBody(dry) {
    const f = $('action-form').elements, k = f.kind.value, b = Object.assign({}, state.scope.filter);
    for (const key of Object.keys(b)) if (b[key] === null || b[key] === undefined) delete b[key];
    if (dry) b.dry_run = true;
    if (state.readQuorum) b.read_quorum = true; // consent given for this queue (only reads need it)
    const lim = parseInt(f.limit.value, 10), rate = parseFloat(f.rate.value);
    if (lim > 0) b.limit = lim;
    if (rate > 0 && k !== 'archive') b.rate = rate;
    if (k === 'replay') {
      const r = f.route.value;
      if (r === 'origin') b.to_origin = true;
      if (r === 'queue') b.to_queue = f.to_queue.value;
      if (r === 'exchange') { b.to_exchange = f.to_exchange.value; if (f.routing_key.value) b.routing_key = f.routing_key.value; }
      const mr = parseInt(f.max_replays.value, 10);
      if (mr >= 0) b.max_replays = mr;
      if (f.park_queue_r.value) b.park_queue = f.park_queue_r.value;
      if (f.keep_headers.checked) b.keep_headers = true;
    } else if (k === 'park') {
      b.park_queue = f.park_queue.value;
    } else {
      b.file = f.file.value;
      if (f.copy.checked) b.copy = true;
      if (f.append.checked) b.append = true;
    }
    return [k, b];
  }
  function actionConsent() {
    let u = $('action-consent');
    if (!u) { u = el('ul', { id: 'action-consent', class: 'warnings' }); $('action-scope').after(u); }
    return u;
  }
  async function runAction(dry) {
    const [k, body] = actionBody(dry);
    clear(actionConsent());
    try {
      const r = await api('POST', qpath(state.vhost, state.queue) + '/' + k, body);
      watchJob(r.id, dry);
    } catch (e) {
      if (consentPrompt(e, actionConsent(), () => runAction(dry))) return;
      status(k + ': ' + e.message, true);
    }
  }
  function watchJob(id, dry) {
    state.job = id;
    $('job').hidden = false;
    $('job-id').textContent = id + (dry ? ' (preview)' : '');
    clear($('job-summary').tBodies[0]); clear($('job-targets').tBodies[0]); clear($('job-warnings'));
    $('job-targets').hidden = !dry;
    if (state.poll) clearInterval(state.poll);
    const tick = async () => {
      let j;
      try { j = await api('GET', '/api/jobs/' + encodeURIComponent(id)); } catch (e) { status('job ' + id + ': ' + e.message, true); return; }
      $('job-state').textContent = j.state;
      $('job-state').className = 'state-' + j.state;
      const p = j.progress;
      const done = (p.moved || 0) + p.parked;
      $('job-progress').textContent = dry ? 'read ' + p.read + ' message(s)' :
        done + ' moved (' + p.snapshot + ' ready when it started) · ' + p.rate.toFixed(0) + ' msg/s · ' + p.seconds.toFixed(1) + ' s';
      $('job-bar').value = p.snapshot ? Math.min(1, (dry ? p.read : done) / p.snapshot) : (j.state === 'running' ? 0 : 1);
      $('job-cancel').hidden = j.state !== 'running';
      const w = clear($('job-warnings'));
      for (const m of j.warnings) w.appendChild(el('li', null, m));
      if (j.targets) {
        const tb = clear($('job-targets').tBodies[0]);
        for (const t of j.targets) {
          const where = t.action === 'archive' ? 'file ' + t.file : t.exchange !== undefined ?
            (t.exchange === '' ? 'queue ' + t.routing_key : 'exchange ' + t.exchange + ', key ' + t.routing_key) + (t.target_exists ? '' : ' (does not exist: stays)') : 'stays';
          tb.appendChild(el('tr', { class: 'target' }, el('td', null, t.action), el('td', null, where), el('td', { class: 'n' }, t.count)));
        }
      }
      if (j.state !== 'running') {
        clearInterval(state.poll); state.poll = null;
        const sb = clear($('job-summary').tBodies[0]);
        for (const k of Object.keys(j.summary || {})) {
          const v = j.summary[k];
          sb.appendChild(el('tr', { 'data-key': k }, el('th', null, k), el('td', { class: 'summary-' + k }, typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : txt(v))));
        }
        $('job-summary').setAttribute('data-state', j.state);
        if (dry) $('action-confirm').disabled = j.state !== 'done';
        else { $('action-confirm').disabled = true; readQueue(); }
      }
    };
    tick();
    state.poll = setInterval(tick, 500);
  }

  // --- wiring ----------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('refresh').addEventListener('click', loadOverview);
    $('home').addEventListener('click', (e) => { e.preventDefault(); goHome(); });
    $('back').addEventListener('click', goHome);
    $('reload-queue').addEventListener('click', readQueue);
    $('filters').addEventListener('submit', (e) => { e.preventDefault(); loadMessages(); });
    $('act-filter').addEventListener('click', () => openAction('replay', { kind: 'filter', filter: filters() }));
    $('act-selection').addEventListener('click', () => openAction('replay', { kind: 'selection', filter: { message_ids: Array.from(state.selected) } }));
    $('select-all').addEventListener('change', (e) => {
      for (const cb of document.querySelectorAll('#messages-table input.pick')) if (!cb.disabled && cb.checked !== e.target.checked) { cb.checked = e.target.checked; cb.dispatchEvent(new Event('change')); }
    });
    $('close-detail').addEventListener('click', () => show('queue'));
    $('close-action').addEventListener('click', () => show('queue'));
    for (const r of $('action-form').elements.kind) r.addEventListener('change', kindChanged);
    $('action-form').addEventListener('input', (e) => { if (e.target.name !== 'kind') $('action-confirm').disabled = true; });
    $('action-preview').addEventListener('click', () => runAction(true));
    $('action-confirm').addEventListener('click', () => { $('action-confirm').disabled = true; runAction(false); });
    $('job-cancel').addEventListener('click', async () => {
      try { await api('POST', '/api/jobs/' + encodeURIComponent(state.job) + '/cancel', {}); } catch (e) { status(e.message, true); }
    });
    goHome();
  });
  function goHome() {
    show('overview');
    loadOverview();
    if (state.overviewTimer) clearInterval(state.overviewTimer);
    state.overviewTimer = setInterval(loadOverview, 15000);
  }
})();
