// roomcast admin broadcast page: POST /broadcast {"message", "roomId"?}. Server text is shown with textContent only.
// The endpoint is `/broadcast` on this origin (the local cloud), or the URL in `?api=`.

import { LIMITS } from './roomcast.js';

const MAX_MESSAGE_BYTES = LIMITS.messageMaxBytes;
const encoder = new TextEncoder();
const byId = (id) => document.getElementById(id);

const form = byId('broadcast-form');
const message = byId('message');
const room = byId('room');
const send = byId('send');
const status = byId('status');
const counter = byId('counter');

const endpoint = new URLSearchParams(location.search).get('api') || new URL('/broadcast', location.href).href;
byId('endpoint').textContent = endpoint;

function show(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;
}

function updateCounter() {
  const bytes = encoder.encode(message.value.trim()).length;
  counter.textContent = `${bytes} / ${MAX_MESSAGE_BYTES} bytes`;
  counter.dataset.over = String(bytes > MAX_MESSAGE_BYTES);
}

message.addEventListener('input', updateCounter);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = message.value.trim();
  const roomId = room.value.trim();
  if (text === '') return show('Write a message first.', 'error');
  send.disabled = true;
  show('Sending…', 'pending');
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(roomId === '' ? { message: text } : { message: text, roomId }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 202) {
      show(
        `Queued for ${roomId === '' ? 'everyone' : `room ${roomId}`} (messageId ${body.messageId}).`,
        'ok',
      );
      message.value = '';
      updateCounter();
    } else if (response.status === 403) {
      show('403: this endpoint needs a SigV4-signed request (use awscurl or the SDK).', 'error');
    } else {
      show(`${response.status} ${body.code ?? ''}: ${body.message ?? 'request failed'}`, 'error');
    }
  } catch (error) {
    show(`Could not reach ${endpoint}: ${error.message}`, 'error');
  } finally {
    send.disabled = false;
  }
});

updateCounter();
