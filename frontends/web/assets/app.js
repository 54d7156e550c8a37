// Veil chat page: talks to the local daemon over one WebSocket (commands as JSON that map 1:1
// to the messenger contract; live events), uploads files with HTTP POST, and never puts
// received text into the page as HTML (textContent only).
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  me: null,               // {id, device_key}
  conversations: [],      // newest first
  current: null,          // peer ID of the open conversation
  messages: new Map(),    // message id -> {data, el}
  progress: new Map(),    // transfer id -> {done, total}
  sendingFile: null,      // name of the file being sent, while the daemon uploads it
};

// ---- connection -----------------------------------------------------------------------------

let socket = null;
let nextId = 1;
const pending = new Map();
let retryMs = 500;

function connect() {
  socket = new WebSocket(`ws://${location.host}/ws`, 'veil');
  socket.addEventListener('open', () => {
    retryMs = 500;
    setStatus('online', 'connected');
    refreshAll();
  });
  socket.addEventListener('message', (e) => onFrame(e.data));
  socket.addEventListener('close', async () => {
    for (const p of pending.values()) p.reject(new Error('disconnected'));
    pending.clear();
    // A restarted daemon has a new session: this page's cookie is no longer valid.
    const probe = await fetch('/icon.svg', { cache: 'no-store' }).then((r) => r.status, () => 0);
    if (probe === 401) {
      setStatus('offline', 'signed out');
      toast('The daemon restarted: open the new URL it printed (also in HOME/web/url).');
      return;
    }
    setStatus('offline', 'offline, retrying…');
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  });
}

function setStatus(cls, text) {
  const s = $('status');
  s.className = `status ${cls}`;
  s.textContent = text;
}

function call(method, params = {}) {
  return new Promise((resolve, reject) => {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      reject(new Error('not connected to the daemon'));
      return;
    }
    const id = nextId++;
    pending.set(id, { resolve, reject });
    socket.send(JSON.stringify({ id, method, params }));
  });
}

function onFrame(text) {
  let f;
  try { f = JSON.parse(text); } catch { return; }
  if (f.event) { onEvent(f.event, f.data); return; }
  const p = pending.get(f.id);
  if (!p) return;
  pending.delete(f.id);
  if (f.error) p.reject(new Error(`${f.error.code}: ${f.error.message}`));
  else p.resolve(f.result);
}

function onEvent(name, data) {
  if (name === 'message_added' || name === 'message_updated') {
    if (data.peer === state.current) {
      upsertMessage(data);
      if (!data.outgoing && !data.read && document.visibilityState === 'visible') markRead(data.peer);
    }
    loadConversations();
  } else if (name === 'conversation_updated') {
    loadConversations();
  } else if (name === 'transfer_progress') {
    state.progress.set(data.transfer_id, data);
    // The daemon encrypts and uploads a file before the message is queued: show it here.
    if (data.upload && state.sendingFile && data.total_bytes > 0) {
      showUpload(`Encrypting and sending ${state.sendingFile}`, data.done_bytes / data.total_bytes);
    }
    const m = state.messages.get(data.transfer_id);
    if (m) renderMessage(m.data, m.el);
  }
}

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

const fail = (e) => toast(e.message || String(e));

// ---- conversations --------------------------------------------------------------------------

async function refreshAll() {
  try {
    state.me = await call('get_profile');
    $('my-id').textContent = state.me.id;
  } catch (e) { fail(e); }
  await loadConversations();
  if (state.current) openConversation(state.current);
}

async function loadConversations() {
  try {
    const r = await call('list_conversations');
    state.conversations = r.conversations;
    renderConversations();
    if (state.current) renderHeader();
  } catch (e) { fail(e); }
}

const isGroupId = (id) => /^03[0-9a-f]{64}$/.test(id);

function conv(peer) {
  return state.conversations.find((c) => c.peer === peer) ||
    { peer, name: '', unread: 0, last_at_ms: 0, last_text: '', request: false, blocked: false, disappear_after_s: 0,
      group: isGroupId(peer) };
}

// A sender's name in a group: the contact's name when known.
function senderName(id) {
  const c = state.conversations.find((x) => x.peer === id && !x.group);
  return c && c.name ? c.name : shortId(id);
}

const displayName = (c) => c.name || shortId(c.peer);
const shortId = (id) => `${id.slice(0, 8)}…${id.slice(-6)}`;

function avatar(el, c) {
  const name = displayName(c);
  el.textContent = (c.name ? name[0] : c.peer.slice(2, 4)).toUpperCase();
  let h = 0;
  for (const ch of c.peer) h = (h * 31 + ch.charCodeAt(0)) % 360;
  el.style.background = `hsl(${h} 55% 45%)`;
}

function renderConversations() {
  const ul = $('conversations');
  ul.replaceChildren();
  for (const c of state.conversations) {
    const li = document.createElement('li');
    li.dataset.peer = c.peer;
    if (c.peer === state.current) li.classList.add('active');
    const av = document.createElement('div');
    av.className = 'avatar';
    avatar(av, c);
    const name = el('div', 'conv-name', displayName(c));
    const time = el('div', 'conv-time', c.last_at_ms ? formatTime(c.last_at_ms) : '');
    const preview = el('div', 'conv-preview', c.last_text);
    const meta = el('div', 'conv-meta');
    if (c.group) meta.append(el('span', 'tag group', 'Group'));
    if (c.request) meta.append(el('span', 'tag request', 'Request'));
    if (c.blocked) meta.append(el('span', 'tag blocked', 'Blocked'));
    if (c.unread > 0) meta.append(el('span', 'unread', String(c.unread)));
    li.append(av, name, time, preview, meta);
    li.addEventListener('click', () => openConversation(c.peer));
    ul.append(li);
  }
  $('no-conversations').hidden = state.conversations.length > 0;
  const unread = state.conversations.reduce((n, c) => n + (c.blocked ? 0 : c.unread), 0);
  document.title = unread > 0 ? `Veil (${unread})` : 'Veil';
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function formatTime(ms) {
  const d = new Date(ms);
  const now = new Date();
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return hm;
  return `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${hm}`;
}

async function openConversation(peer) {
  const changed = state.current !== peer;
  state.current = peer;
  if (changed) {
    state.messages.clear();
    $('messages').replaceChildren();
  }
  $('welcome').hidden = true;
  $('conversation').hidden = false;
  document.querySelector('.app').classList.add('in-chat');
  renderHeader();
  renderConversations();
  try {
    const r = await call('list_messages', { peer, limit: 200 });
    if (state.current !== peer) return;
    for (const m of r.messages) upsertMessage(m);
    if (conv(peer).unread > 0) markRead(peer);
  } catch (e) { fail(e); }
  $('composer-text').focus();
}

function renderHeader() {
  const c = conv(state.current);
  avatar($('peer-avatar'), c);
  $('peer-name').textContent = displayName(c);
  $('peer-id').textContent = c.peer;
  $('disappear').value = String(c.disappear_after_s);
  if ($('disappear').value === '') {
    const o = el('option', '', `${c.disappear_after_s} s`);
    o.value = String(c.disappear_after_s);
    $('disappear').append(o);
    $('disappear').value = o.value;
  }
  $('block').textContent = c.blocked ? 'Unblock' : 'Block';
  $('rename').textContent = c.name ? 'Rename' : 'Add contact';
  $('request-banner').hidden = !c.request;
  // A group has members instead of a contact's settings (its timer and blocking are per person).
  for (const id of ['rename', 'block', 'request-block']) $(id).hidden = c.group;
  $('disappear').closest('label').hidden = c.group;
  $('members').hidden = !c.group;
  $('request-text').textContent = c.group
    ? 'An invitation to a group from someone not in your contacts. Accept to read and write in it.'
    : 'This person is not in your contacts yet. Accept to reply, or block them.';
}

async function markRead(peer) {
  try { await call('mark_read', { peer }); } catch (e) { fail(e); }
}

// ---- messages -------------------------------------------------------------------------------

function upsertMessage(m) {
  let entry = state.messages.get(m.id);
  if (!entry) {
    const li = el('li');
    entry = { data: m, el: li };
    state.messages.set(m.id, entry);
    const list = $('messages');
    // Keep the list in sent order (events may arrive out of order).
    let before = null;
    for (const child of list.children) {
      const other = state.messages.get(child.dataset.id);
      if (other && other.data.sent_at_ms > m.sent_at_ms) { before = child; break; }
    }
    list.insertBefore(li, before);
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    renderMessage(m, li);
    if (nearBottom || m.outgoing) list.scrollTop = list.scrollHeight;
    return;
  }
  entry.data = m;
  renderMessage(m, entry.el);
}

const deliveryText = { queued: 'Queued', sent: 'Sent', failed: 'Failed', received: '' };

function renderMessage(m, li) {
  li.className = `message ${m.outgoing ? 'outgoing' : 'incoming'} ${m.delivery}`;
  li.dataset.id = m.id;
  li.dataset.delivery = m.delivery;
  const bubble = el('div', 'bubble');
  if (m.group && !m.outgoing) bubble.append(el('div', 'sender', senderName(m.from)));
  if (m.attachment) bubble.append(renderAttachment(m));
  if (m.text) bubble.append(el('span', 'message-text', m.text));
  const p = state.progress.get(m.id);
  if (p && p.done_bytes < p.total_bytes) {
    const bar = document.createElement('progress');
    bar.max = p.total_bytes;
    bar.value = p.done_bytes;
    bar.className = 'transfer';
    bubble.append(bar);
  }
  const meta = el('div', 'meta');
  meta.append(el('time', '', formatTime(m.sent_at_ms)));
  if (m.expires_at_ms) meta.append(el('span', 'expires', `disappears ${formatTime(m.expires_at_ms)}`));
  if (m.outgoing) meta.append(el('span', `delivery ${m.delivery}`, deliveryText[m.delivery] || m.delivery));
  li.replaceChildren(bubble, meta);
}

function renderAttachment(m) {
  const a = m.attachment;
  const url = `/api/media?id=${encodeURIComponent(m.id)}`;
  if (a.saved && /^image\/(jpeg|png|gif|webp)$/.test(a.mime_type)) {
    const img = document.createElement('img');
    img.className = 'media';
    img.alt = a.file_name;
    img.src = url;
    return img;
  }
  const label = `${a.file_name} (${formatSize(a.size_bytes)})${a.saved || m.outgoing ? '' : ' – downloading…'}`;
  const file = el(a.saved ? 'a' : 'span', 'file');
  file.append(el('span', 'file-icon'), el('span', '', label));
  if (a.saved) {
    file.href = url;
    file.download = a.file_name;
  }
  return file;
}

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

async function sendText(e) {
  e.preventDefault();
  const box = $('composer-text');
  const text = box.value.trim();
  if (!text || !state.current) return;
  box.value = '';
  autoGrow();
  try {
    const r = await call('send_message', { to: state.current, text });
    if (r.message.peer === state.current) upsertMessage(r.message);
  } catch (err) {
    box.value = text;
    fail(err);
  }
}

// The file goes to the daemon first (HTTP POST, with progress), then the message names it.
function uploadFile(file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/upload?name=${encodeURIComponent(file.name)}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) showUpload(`Preparing ${file.name}`, e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 200) resolve(JSON.parse(xhr.responseText));
      else reject(new Error(xhr.responseText.trim() || `upload failed (${xhr.status})`));
    });
    xhr.addEventListener('error', () => reject(new Error('upload failed')));
    xhr.send(file);
  });
}

// A photo, video or audio file whose metadata cannot be removed is refused; the person may then
// choose, for this file only, to send it as it is (keep_metadata).
async function sendWithConsent(params, name) {
  try {
    return await call('send_message', params);
  } catch (e) {
    if (!/keep-metadata/.test(e.message)) throw e;
    const why = e.message.replace(/^bad_input: /, '').replace(/; refused so it does not leave.*$/, '');
    const ok = window.confirm(`${name}: ${why}.\n\nSend it anyway, WITH its metadata ` +
      '(it may show where and when it was made, the device, the author)?');
    if (!ok) throw new Error(`${name} was not sent`);
    return call('send_message', { ...params, keep_metadata: true });
  }
}

function showUpload(label, fraction) {
  $('upload').hidden = false;
  $('upload-label').textContent = label;
  $('upload-progress').value = fraction;
}

async function sendFile() {
  const input = $('file-input');
  const file = input.files[0];
  input.value = '';
  // "Keep file name" is asked per file, like keep_metadata: read once, then cleared so the next
  // file does not leave under its name by a tick the sender forgot.
  const keepName = $('keep-name').checked;
  $('keep-name').checked = false;
  if (!file || !state.current) return;
  const to = state.current;
  const text = $('composer-text').value.trim();
  try {
    showUpload(`Preparing ${file.name}`, 0);
    const up = await uploadFile(file);
    $('composer-text').value = '';
    state.sendingFile = file.name;
    showUpload(`Encrypting and sending ${file.name}`, 0);
    const r = await sendWithConsent({ to, text, upload: up.upload, keep_name: keepName }, file.name);
    if (r.notice) toast(r.notice);
    if (r.message.peer === state.current) upsertMessage(r.message);
  } catch (e) { fail(e); } finally {
    state.sendingFile = null;
    $('upload').hidden = true;
  }
}

function autoGrow() {
  const box = $('composer-text');
  box.style.height = 'auto';
  box.style.height = `${Math.min(box.scrollHeight, 160)}px`;
}

// ---- people, devices, profile ---------------------------------------------------------------

function ask(title, value) {
  return new Promise((resolve) => {
    const d = $('prompt-dialog');
    $('prompt-title').textContent = title;
    $('prompt-input').value = value || '';
    d.returnValue = '';
    d.showModal();
    $('prompt-cancel').onclick = () => d.close('cancel');
    d.addEventListener('close', () => resolve(d.returnValue === 'ok' ? $('prompt-input').value.trim() : null), { once: true });
  });
}

async function renameCurrent() {
  const c = conv(state.current);
  const name = await ask(c.name ? 'Rename contact' : 'Add to contacts', c.name);
  if (!name) return;
  try {
    await call('save_contact', { id: c.peer, name });
    await loadConversations();
  } catch (e) { fail(e); }
}

async function toggleBlock(peer, blocked) {
  try {
    await call('set_blocked', { id: peer, blocked });
    await loadConversations();
    if ($('contacts-dialog').open) await showContacts();
  } catch (e) { fail(e); }
}

async function acceptCurrent() {
  try {
    await call('accept_request', { id: state.current });
    await loadConversations();
  } catch (e) { fail(e); }
}

async function setDisappearing() {
  const seconds = Number($('disappear').value);
  try {
    await call('set_disappearing', { peer: state.current, seconds });
    await loadConversations();
  } catch (e) { fail(e); }
}

async function showContacts() {
  const d = $('contacts-dialog');
  try {
    const r = await call('list_contacts');
    const ul = $('contacts');
    ul.replaceChildren();
    for (const c of r.contacts) {
      const li = el('li');
      const av = el('div', 'avatar');
      avatar(av, { peer: c.id, name: c.name });
      const text = el('div', 'grow');
      text.append(el('div', '', c.name || shortId(c.id)), el('div', 'sub', c.id));
      li.append(av, text);
      if (!c.accepted) li.append(el('span', 'tag request', 'Request'));
      const chat = el('button', '', 'Chat');
      chat.type = 'button';
      chat.onclick = () => { d.close(); openConversation(c.id); };
      const block = el('button', c.blocked ? '' : 'danger', c.blocked ? 'Unblock' : 'Block');
      block.type = 'button';
      block.onclick = () => toggleBlock(c.id, !c.blocked);
      li.append(chat, block);
      ul.append(li);
    }
    $('no-contacts').hidden = r.contacts.length > 0;
    if (!d.open) d.showModal();
  } catch (e) { fail(e); }
}

async function addContact(e) {
  e.preventDefault();
  const id = $('add-contact-id').value.trim();
  const name = $('add-contact-name').value.trim();
  try {
    await call('save_contact', { id, name });
    $('add-contact-id').value = '';
    $('add-contact-name').value = '';
    await showContacts();
    await loadConversations();
  } catch (err) { fail(err); }
}

async function showDevices() {
  try {
    const r = await call('list_devices');
    const ul = $('devices');
    ul.replaceChildren();
    for (const dev of r.devices) {
      const li = el('li');
      const text = el('div', 'grow');
      text.append(el('div', '', `${dev.name || 'Device'}${dev.this_device ? ' (this device)' : ''}`),
        el('div', 'sub', dev.key));
      li.append(text);
      if (dev.added_at_ms) li.append(el('span', 'sub', formatTime(dev.added_at_ms)));
      if (dev.revoked) li.append(el('span', 'tag blocked', 'Revoked'));
      ul.append(li);
    }
    $('devices-dialog').showModal();
  } catch (e) { fail(e); }
}

function showProfile() {
  // The QR code is made by the daemon (SVG); reload it so it always matches this account.
  $('qr').src = `/api/qr.svg?t=${Date.now()}`;
  if (state.me) $('my-id').textContent = state.me.id;
  $('profile-dialog').showModal();
}

async function copyId() {
  try {
    await navigator.clipboard.writeText(state.me ? state.me.id : '');
    toast('ID copied');
  } catch { toast('Select the ID and copy it'); }
}

function openNewChat(e) {
  e.preventDefault();
  const id = $('new-chat-id').value.trim().toLowerCase();
  if (!/^0[35][0-9a-f]{64}$/.test(id)) {
    toast('A Veil ID is 66 characters: 05 followed by 64 hex digits (a group ID: 03 and 64 hex digits)');
    return;
  }
  $('new-chat-id').value = '';
  openConversation(id);
}

// ---- groups ---------------------------------------------------------------------------------

function showNewGroup() {
  $('new-group-name').value = '';
  $('new-group-members').value = '';
  $('group-dialog').showModal();
}

async function createGroup(e) {
  e.preventDefault();
  const name = $('new-group-name').value.trim();
  const members = $('new-group-members').value.split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter(Boolean);
  const bad = members.find((m) => !/^05[0-9a-f]{64}$/.test(m));
  if (bad) {
    toast(`Not a Veil ID: ${bad.slice(0, 20)}`);
    return;
  }
  try {
    const g = await call('create_group', { name, members });
    $('group-dialog').close();
    await loadConversations();
    openConversation(g.id);
  } catch (err) { fail(err); }
}

async function showMembers() {
  try {
    const g = await call('get_group', { group: state.current });
    $('members-title').textContent = `${g.name}: ${g.members.length} members`;
    const ul = $('members-list');
    ul.replaceChildren();
    for (const m of g.members) {
      const li = el('li');
      const av = el('div', 'avatar');
      avatar(av, { peer: m.id, name: '' });
      const text = el('div', 'grow');
      const you = state.me && m.id === state.me.id ? ' (you)' : '';
      text.append(el('div', '', senderName(m.id) + you), el('div', 'sub', m.id));
      li.append(av, text);
      if (m.role === 'admin') li.append(el('span', 'tag group', 'Admin'));
      ul.append(li);
    }
    $('members-dialog').showModal();
  } catch (e) { fail(e); }
}

// ---- theme ----------------------------------------------------------------------------------

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === 'dark'
    : matchMedia('(prefers-color-scheme: dark)').matches;
  const next = dark ? 'light' : 'dark';
  localStorage.setItem('veil-theme', next);
  applyTheme(next);
}

// ---- wiring ---------------------------------------------------------------------------------

applyTheme(localStorage.getItem('veil-theme'));
document.addEventListener('DOMContentLoaded', () => {
  $('theme-toggle').addEventListener('click', toggleTheme);
  $('composer').addEventListener('submit', sendText);
  $('composer-text').addEventListener('input', autoGrow);
  $('composer-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('composer').requestSubmit(); }
  });
  $('file-input').addEventListener('change', sendFile);
  $('new-chat').addEventListener('submit', openNewChat);
  $('rename').addEventListener('click', renameCurrent);
  $('block').addEventListener('click', () => toggleBlock(state.current, !conv(state.current).blocked));
  $('request-block').addEventListener('click', () => toggleBlock(state.current, true));
  $('accept').addEventListener('click', acceptCurrent);
  $('disappear').addEventListener('change', setDisappearing);
  $('open-profile').addEventListener('click', showProfile);
  $('open-contacts').addEventListener('click', showContacts);
  $('open-devices').addEventListener('click', showDevices);
  $('copy-id').addEventListener('click', copyId);
  $('add-contact').addEventListener('submit', addContact);
  $('open-new-group').addEventListener('click', showNewGroup);
  $('new-group').addEventListener('submit', createGroup);
  $('new-group-cancel').addEventListener('click', () => $('group-dialog').close());
  $('members').addEventListener('click', showMembers);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.current && conv(state.current).unread > 0) markRead(state.current);
  });
  connect();
});
