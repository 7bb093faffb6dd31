// Duet's browser page: join the broker under a name, see who is online,
// call a node or another browser, answer, hang up. Plain JS, no build step.
// Signalling is JSON over the broker's WebSocket (docs/web-protocol.md); the
// media goes straight between the two ends (WebRTC).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const NAME_KEY = 'duet.name';
  const RING_MS = 30000;      // an unanswered incoming call ends as `timeout`
  const CALL_MS = 30000;      // our own call gives up after this without an answer
  const CONNECT_MS = 15000;   // an answered call must connect its media within this
  const LOST_MS = 5000;       // a `disconnected` peer connection this long is `peer-lost`
  const MAX_BUFFERED_ICE = 64;

  let ws = null;
  let myId = null;
  let myName = '';
  let iceServers = [];
  let joined = false;         // the broker accepted our name (reconnect after a drop)
  let lastError = '';
  let peers = [];
  let call = null;
  // For tests and benchmarks: times (ms since the epoch) of the last call.
  const stats = { callClickedAt: null, remoteFirstFrameAt: null };
  window.duet = { stats, get id() { return myId; }, get call() { return call; } };

  const READABLE = {
    'hangup': () => 'You hung up.',
    'remote-hangup': (n) => `${n} hung up.`,
    'cancelled': (n) => `${n} cancelled the call.`,
    'declined': (n) => `${n} declined the call.`,
    'busy': (n) => `${n} is busy (in another call, or do not disturb).`,
    'not-allowed': (n) => `${n} takes calls only from its allow-list.`,
    'timeout': (n, c) => (c && c.role === 'callee' ? `Missed call from ${n}.` : `${n} did not answer.`),
    'no-answer': (n) => `${n} did not answer.`,
    'peer-lost': (n) => `${n} is gone (left, or lost the network).`,
    'media-failed': (n) => `The media connection with ${n} failed.`,
    'media-untrusted': () => 'The media could not be tied to the peer that was called: call ended.',
    'camera-denied': () => 'Camera or microphone access was denied. Allow it in the site settings and try again.',
    'no-devices': () => 'No camera or microphone could be opened.',
    'disconnected': () => 'Lost the connection to the broker.',
    'error': (n, c, d) => (d ? `The call failed: ${d}` : 'The call ended with an error.'),
  };

  function setStatus(s) { $('status').textContent = s; }
  function message(text, info) {
    const m = $('message');
    m.textContent = text || '';
    m.hidden = !text;
    m.classList.toggle('info', !!info);
  }
  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ v: 1, ...obj }));
  }
  function sendCall(type, fields) {
    if (call) send({ type, to: call.peer, call_id: call.id, ...fields });
  }

  // ---- joining the broker ----
  function validName(n) {
    if (!n) return 'Enter a name.';
    if (new TextEncoder().encode(n).length > 48) return 'That name is too long (48 bytes at most).';
    if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(n)) {
      return 'That name contains invisible or control characters.';
    }
    return null;
  }
  function wsUrl() {
    const u = new URL('/ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const invite = new URLSearchParams(location.search).get('invite');
    if (invite) u.searchParams.set('invite', invite);
    return u.href;
  }
  function join() {
    const n = $('name').value.trim();
    const bad = validName(n);
    if (bad) return message(bad);
    myName = n;
    try { localStorage.setItem(NAME_KEY, n); } catch (_) { /* private mode */ }
    $('join').disabled = true;
    message('Connecting…', true);
    connect();
  }
  // A socket that has not joined within this long is given up and opened
  // again (a connection can stall on a busy network); after a few tries
  // the page says the broker does not answer.
  const JOIN_TIMEOUT_MS = 6000;
  const JOIN_TRIES = 4;
  let joinTries = 0;
  function connect() {
    lastError = '';
    const socket = new WebSocket(wsUrl());
    ws = socket;
    const stalled = setTimeout(() => {
      if (ws !== socket || joined) return;
      socket.onclose = null;
      socket.close();
      ws = null;
      joinTries += 1;
      if (joinTries < JOIN_TRIES) {
        console.warn('duet: no answer from the broker yet; connecting again');
        connect();
      } else {
        joinTries = 0;
        $('join').disabled = false;
        message('The broker does not answer. Check the address and try again.');
      }
    }, JOIN_TIMEOUT_MS);
    socket.addEventListener('close', () => clearTimeout(stalled));
    ws.onopen = () => send({ type: 'join', name: myName });
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m && typeof m === 'object' && m.v === 1 && typeof m.type === 'string') onMessage(m);
    };
    ws.onclose = () => {
      ws = null;
      if (call) end('disconnected');
      if (joined) {
        message('Lost the connection to the broker; reconnecting…');
        setTimeout(connect, 2000);
      } else {
        $('join').disabled = false;
        message(lastError || 'The broker refused the connection: the invite link may be missing, wrong or expired. Ask for a new one.');
      }
    };
  }
  function onJoined(m) {
    joined = true;
    joinTries = 0;
    myId = String(m.id || '');
    iceServers = Array.isArray(m.ice_servers) ? m.ice_servers : [];
    $('my-id').textContent = myId;
    $('my-name').textContent = myName;
    $('login').hidden = true;
    $('me').hidden = false;
    $('online').hidden = false;
    message('');
    if (!call) setStatus('idle');
  }

  // ---- who is online ----
  function renderPeers() {
    const ul = $('peers');
    ul.replaceChildren();
    for (const p of peers) {
      if (p.id === myId) continue;
      const li = document.createElement('li');
      li.dataset.name = p.name;
      li.dataset.id = p.id;
      li.dataset.kind = p.kind;
      li.dataset.status = p.status;
      const dot = document.createElement('span');
      dot.className = 'dot';
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = p.name + ' ';
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = p.kind === 'web' ? 'browser' : 'node';
      who.append(kind);
      const state = document.createElement('span');
      state.className = 'state';
      state.textContent = p.status;
      const btn = document.createElement('button');
      btn.className = 'call';
      btn.type = 'button';
      btn.textContent = 'Call';
      btn.disabled = !!call;
      btn.addEventListener('click', () => placeCall(p));
      li.append(dot, who, state, btn);
      ul.append(li);
    }
    $('no-peers').hidden = ul.children.length > 0;
  }
  function onPeers(m) {
    if (!Array.isArray(m.peers)) return;
    peers = m.peers.filter((p) => p && typeof p.id === 'string').map((p) => ({
      id: p.id, name: String(p.name || p.id), kind: p.kind === 'web' ? 'web' : 'node',
      status: String(p.status || 'available'),
    }));
    renderPeers();
    if (call && !peers.some((p) => p.id === call.peer)) end('peer-lost');
  }

  // ---- the call ----
  function newCall(id, peer, peerName, role) {
    return {
      id, peer, peerName, role, pc: null, local: null, remote: new MediaStream(),
      offer: null, remoteSet: false, canSendIce: false, localIce: [], remoteIce: [],
      timer: null, lostTimer: null, muted: { audio: false, video: false }, connected: false,
    };
  }
  async function getMedia(c) {
    try {
      c.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch (e) {
      if (e && (e.name === 'NotAllowedError' || e.name === 'SecurityError')) throw new Error('camera-denied');
      try {   // no camera: audio only
        c.local = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (_) {
        throw new Error('no-devices');
      }
    }
    $('local').srcObject = c.local;
  }
  function buildPc(c) {
    const servers = iceServers.filter((s) => s && s.urls).map((s) => {
      const o = { urls: s.urls };
      if (s.username) o.username = s.username;
      if (s.credential) o.credential = s.credential;
      return o;
    });
    const pc = new RTCPeerConnection({ iceServers: servers, bundlePolicy: 'max-bundle' });
    c.pc = pc;
    for (const t of c.local.getTracks()) pc.addTrack(t, c.local);
    pc.onicecandidate = (e) => {
      if (call !== c || !e.candidate || !e.candidate.candidate) return;
      const ice = { mline: e.candidate.sdpMLineIndex || 0, candidate: e.candidate.candidate };
      if (c.canSendIce) sendCall('ice', ice); else c.localIce.push(ice);
    };
    pc.ontrack = (e) => {
      c.remote.addTrack(e.track);
      $('remote').srcObject = c.remote;
    };
    pc.onconnectionstatechange = () => {
      if (call !== c) return;
      const s = pc.connectionState;
      if (s === 'connected') {
        clearTimeout(c.lostTimer);
        if (!c.connected) { c.connected = true; clearTimeout(c.timer); setStatus('connected'); message(''); }
      } else if (s === 'failed') {
        sendCall('hangup', { reason: 'error', detail: 'media connection failed' });
        end('media-failed');
      } else if (s === 'disconnected') {
        clearTimeout(c.lostTimer);
        c.lostTimer = setTimeout(() => { if (call === c) { sendCall('hangup', { reason: 'normal' }); end('peer-lost'); } }, LOST_MS);
      }
    };
    return pc;
  }
  function flushLocalIce(c) {
    if (c.canSendIce) return;
    c.canSendIce = true;
    for (const ice of c.localIce.splice(0)) sendCall('ice', ice);
    if (c.muted.audio || c.muted.video) sendCall('mute', { audio: c.muted.audio, video: c.muted.video });
  }
  async function addRemoteIce(c, ice) {
    try {
      await c.pc.addIceCandidate({ candidate: ice.candidate, sdpMLineIndex: ice.mline });
    } catch (_) { /* an unusable candidate (e.g. unresolvable) is skipped */ }
  }
  async function remoteDescription(c, type, sdp) {
    await c.pc.setRemoteDescription({ type, sdp });
    c.remoteSet = true;
    for (const ice of c.remoteIce.splice(0)) await addRemoteIce(c, ice);
  }
  function showCall(c) {
    $('call').hidden = false;
    document.body.classList.add('in-call');
    $('remote-name').textContent = c.peerName;
    $('local-name').textContent = myName || 'you';
    $('remote-muted').hidden = true;
    for (const k of ['audio', 'video']) $('mute-' + k).setAttribute('aria-pressed', 'false');
    renderPeers();
  }
  function watchFirstFrame() {
    const v = $('remote');
    const done = () => { if (!stats.remoteFirstFrameAt) stats.remoteFirstFrameAt = Date.now(); };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(done);
    else v.addEventListener('loadeddata', done, { once: true });
  }

  // Shows the call, opens camera and microphone; the peer connection, or
  // null when the call ended meanwhile.
  async function openMedia(c) {
    stats.callClickedAt = Date.now();
    stats.remoteFirstFrameAt = null;
    showCall(c);
    watchFirstFrame();
    await getMedia(c);
    return call === c ? buildPc(c) : null;
  }
  function armConnectTimer(c) {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      if (call === c && !c.connected) { sendCall('hangup', { reason: 'error', detail: 'media did not connect' }); end('media-failed'); }
    }, CONNECT_MS);
  }

  async function placeCall(p) {
    if (call || !myId) return;
    const c = newCall(crypto.randomUUID().replace(/-/g, ''), p.id, p.name, 'caller');
    call = c;
    send({ type: 'presence', status: 'in-call' });
    setStatus('calling');
    message(`Calling ${p.name}…`, true);
    try {
      const pc = await openMedia(c);
      if (!pc) return;
      await pc.setLocalDescription(await pc.createOffer());
      if (call !== c) return;
      send({ type: 'invite', to: c.peer, call_id: c.id, sdp: pc.localDescription.sdp });
      c.timer = setTimeout(() => {
        if (call === c && !c.remoteSet) { sendCall('hangup', { reason: 'timeout' }); end('timeout'); }
      }, CALL_MS);
    } catch (e) {
      if (call === c) end(reasonOf(e), String(e && e.message));
    }
  }
  function reasonOf(e) {
    const r = e && e.message;
    return r === 'camera-denied' || r === 'no-devices' ? r : 'error';
  }

  function onInvite(m) {
    if (typeof m.call_id !== 'string' || typeof m.sdp !== 'string' || typeof m.from !== 'string') return;
    if (call) {
      send({ type: 'reject', to: m.from, call_id: m.call_id, reason: 'busy' });
      return;
    }
    const c = newCall(m.call_id, m.from, String(m.from_name || m.from), 'callee');
    c.offer = m.sdp;
    call = c;
    send({ type: 'presence', status: 'in-call' });
    sendCall('ringing', {});
    $('incoming-name').textContent = c.peerName;
    $('incoming').hidden = false;
    setStatus('ringing');
    message('');
    renderPeers();
    c.timer = setTimeout(() => {
      if (call === c && !c.pc) { sendCall('reject', { reason: 'timeout' }); end('timeout'); }
    }, RING_MS);
  }
  async function answer() {
    const c = call;
    if (!c || c.role !== 'callee' || c.pc) return;
    clearTimeout(c.timer);
    $('incoming').hidden = true;
    try {
      const pc = await openMedia(c);
      if (!pc) return;
      await remoteDescription(c, 'offer', c.offer);
      await pc.setLocalDescription(await pc.createAnswer());
      if (call !== c) return;
      sendCall('accept', { sdp: pc.localDescription.sdp });
      flushLocalIce(c);
      armConnectTimer(c);
    } catch (e) {
      if (call !== c) return;
      if (c.pc) sendCall('hangup', { reason: 'error', detail: String(e && e.message) });
      else sendCall('reject', { reason: 'declined' });
      end(reasonOf(e), String(e && e.message));
    }
  }
  function rejectCall() {
    if (!call || call.role !== 'callee' || call.pc) return;
    sendCall('reject', { reason: 'declined' });
    end('declined');
  }
  function hangup() {
    const c = call;
    if (!c) return;
    if (c.role === 'callee' && !c.pc) return rejectCall();
    sendCall('hangup', { reason: c.role === 'caller' && !c.remoteSet ? 'cancelled' : 'normal' });
    end('hangup');
  }
  // Ends the current call locally (the peer was told already, or told us).
  function end(reason, detail) {
    const c = call;
    if (!c) return;
    call = null;
    clearTimeout(c.timer);
    clearTimeout(c.lostTimer);
    if (c.pc) c.pc.close();
    if (c.local) for (const t of c.local.getTracks()) t.stop();
    $('local').srcObject = null;
    $('remote').srcObject = null;
    $('incoming').hidden = true;
    $('call').hidden = true;
    document.body.classList.remove('in-call');
    send({ type: 'presence', status: 'available' });
    setStatus(reason);
    const say = READABLE[reason];
    message(say ? say(c.peerName, c, detail) : `Call ended: ${reason}${detail ? ` (${detail})` : ''}.`, reason === 'hangup');
    renderPeers();
  }
  function toggleMute(kind) {
    const c = call;
    if (!c) return;
    c.muted[kind] = !c.muted[kind];
    if (c.local) for (const t of c.local.getTracks()) if (t.kind === kind) t.enabled = !c.muted[kind];
    $('mute-' + kind).setAttribute('aria-pressed', String(c.muted[kind]));
    if (c.canSendIce) sendCall('mute', { audio: c.muted.audio, video: c.muted.video });
  }

  // ---- messages from the broker ----
  function forCall(m) { return call && m.call_id === call.id && m.from === call.peer ? call : null; }
  function onMessage(m) {
    switch (m.type) {
      case 'joined': return onJoined(m);
      case 'peers': return onPeers(m);
      case 'error':
        lastError = String(m.message || m.code || 'error');
        if (!joined) { $('join').disabled = false; message(lastError); return; }
        if (call && m.call_id === call.id && (m.code === 'no-such-peer' || m.code === 'peer-gone')) end('peer-lost');
        else if (call && m.call_id === call.id && !call.remoteSet) end('error', lastError);
        else if (m.code === 'rate-limited' || m.code === 'name-taken') message(lastError);
        return;
      case 'peer-gone':
        if (call && m.from === call.peer && (!m.call_id || m.call_id === call.id)) end('peer-lost');
        return;
      case 'invite': return onInvite(m);
    }
    const c = forCall(m);
    if (!c) return;
    switch (m.type) {
      case 'ringing':
        if (c.role === 'caller') { flushLocalIce(c); message(`Ringing at ${c.peerName}…`, true); }
        break;
      case 'accept':
        if (c.role !== 'caller' || c.remoteSet || typeof m.sdp !== 'string') break;
        flushLocalIce(c);
        armConnectTimer(c);
        remoteDescription(c, 'answer', m.sdp).catch((e) => {
          if (call !== c) return;
          sendCall('hangup', { reason: 'error', detail: `bad answer: ${e.message}` });
          end('error', e.message);
        });
        break;
      case 'reject':
        end(typeof m.reason === 'string' ? m.reason : 'declined');
        break;
      case 'hangup': {
        const r = m.reason === 'normal' || !m.reason ? 'remote-hangup' : String(m.reason);
        end(r === 'error' ? 'remote-hangup' : r, m.detail ? String(m.detail) : null);
        break;
      }
      case 'ice':
        if (typeof m.candidate !== 'string' || typeof m.mline !== 'number') break;
        if (c.remoteSet) addRemoteIce(c, m);
        else if (c.remoteIce.length < MAX_BUFFERED_ICE) c.remoteIce.push(m);
        break;
      case 'mute': {
        const off = [m.audio && 'mic off', m.video && 'camera off'].filter(Boolean);
        $('remote-muted').textContent = `${c.peerName}: ${off.join(', ')}`;
        $('remote-muted').hidden = off.length === 0;
        break;
      }
    }
  }

  // ---- wiring ----
  try { $('name').value = localStorage.getItem(NAME_KEY) || ''; } catch (_) { /* private mode */ }
  $('join').addEventListener('click', join);
  $('name').addEventListener('keydown', (e) => { if (e.key === 'Enter') join(); });
  $('answer').addEventListener('click', answer);
  $('reject').addEventListener('click', rejectCall);
  $('hangup').addEventListener('click', hangup);
  $('mute-audio').addEventListener('click', () => toggleMute('audio'));
  $('mute-video').addEventListener('click', () => toggleMute('video'));
  $('copy-id').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(myId || '');
      $('copy-id').textContent = 'Copied';
    } catch (_) {
      getSelection().selectAllChildren($('my-id'));
      $('copy-id').textContent = 'Press Ctrl+C';
    }
    setTimeout(() => { $('copy-id').textContent = 'Copy ID'; }, 1500);
  });
  window.addEventListener('beforeunload', () => { if (call) hangup(); });
})();
