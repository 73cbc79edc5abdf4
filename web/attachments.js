// Attachments (docs/PROTOCOL.md, "Attachments"): an image pasted into the composer, or an image or a file of the
// allowlist (FILE_TYPES) picked with the 📎 button or dropped on the message column (dropUpload.js), is uploaded
// straight to the attachments bucket with the presigned POST `attach` answers (an XHR, for its upload progress),
// waits above the composer until the message is sent with it; every message's images show as thumbnails and its
// files as chips whose link downloads them, each read through presigned GETs (`getattachment`), asked for again once
// they expire.
import {
  ATTACHMENT_LIMITS,
  ATTACHMENT_TYPES,
  attachmentNameProblem,
  FILE_TYPES,
  fileTypeOfName,
  maxBytesOf,
} from './roomcast.js';
import { state } from './state.js';
import { h, toast, ui } from './ui.js';

/** What the 📎 picker offers: the image types, the file types and their name endings (one source, the protocol's). */
const ACCEPT = [
  ...ATTACHMENT_TYPES,
  ...Object.keys(FILE_TYPES),
  ...Object.values(FILE_TYPES).flatMap((t) => t.extensions),
].join(',');

/**
 * The allowed type of a picked file: its own when the browser names an image or a file type of the allowlist,
 * else the one its name's ending stands for (browsers type a .csv or .zip differently by system), else undefined.
 */
function typeOf(file) {
  if (ATTACHMENT_TYPES.includes(file.type) || Object.hasOwn(FILE_TYPES, file.type)) return file.type;
  return fileTypeOfName(file.name ?? '');
}

const MIB = 1024 * 1024;
const FILE_KINDS = [...new Set(Object.values(FILE_TYPES).map((t) => t.label))].join(', ');

/** Uploads waiting to be sent with the next message: `{ key, contentType, size, name?, width?, height? }`. */
const ready = [];
let uploading = 0;
let onChange = () => {};

/** The images the next message carries (none while one is still uploading: the message waits for it). */
export function pendingAttachments() {
  if (uploading > 0) return undefined;
  // Only the room on screen's: an image uploaded before a room change belongs to the other room (NOT_SUBSCRIBED).
  return ready.filter((a) => a.key.startsWith(`rooms/${state.shownRoom}/`));
}

/** Whether the composer may send without text: an image is ready and none is still uploading. */
export function hasReadyAttachments() {
  return uploading === 0 && ready.length > 0;
}

/** Forgets the images once their message is sent (or the room changes). */
export function clearAttachments() {
  ready.length = 0;
  tray().replaceChildren();
  tray().hidden = true;
  onChange();
}

function tray() {
  return document.getElementById('attachment-tray');
}

/** Width and height of an image file, when the browser can decode it (createImageBitmap needs no CSP source). */
async function dimensionsOf(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size.width > 0 && size.height > 0 ? size : {};
  } catch {
    return {};
  }
}

/** POSTs the file with the presigned fields; `progress(0..1)` as it goes. Resolves on S3's 204, rejects otherwise. */
export function post(upload, file, progress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.addEventListener('progress', (ev) => {
      if (ev.lengthComputable) progress(ev.loaded / ev.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      // S3's refusal names its reason (EntityTooLarge, AccessDenied "Policy expired", ...).
      const code = /<Code>([^<]+)<\/Code>/.exec(xhr.responseText ?? '')?.[1] ?? `HTTP ${xhr.status}`;
      reject(new Error(`The bucket refused the upload (${code}).`));
    });
    xhr.addEventListener('error', () => reject(new Error('The upload failed (network error).')));
    xhr.send(form);
  });
}

/**
 * Uploads one image or file: checks what the server would refuse first, asks for the POST, sends it with progress.
 * Every way in (the 📎 picker, a paste, a drop: dropUpload.js) comes through here, so each refuses the same files with
 * the same words.
 */
export async function upload(file) {
  if (!state.chat || state.shownRoom === null || state.shownRoom === 'lobby') {
    toast('Attachments go to a room: create or join one first.', { kind: 'info' });
    return;
  }
  const type = typeOf(file);
  if (type === undefined) {
    toast(
      `Only PNG, JPEG, GIF and WebP images can be attached, and files of these kinds: ${FILE_KINDS} (this is ${file.type || 'unknown'}).`,
    );
    return;
  }
  const isFile = Object.hasOwn(FILE_TYPES, type);
  const problem = isFile ? attachmentNameProblem(file.name, type) : undefined;
  if (problem !== undefined) {
    toast(problem, { title: 'File not attached' });
    return;
  }
  const max = maxBytesOf(type);
  if (file.size > max) {
    toast(`The ${isFile ? 'file' : 'image'} is too large: at most ${max / MIB} MiB.`);
    return;
  }
  if (ready.length + uploading >= ATTACHMENT_LIMITS.perMessage) {
    toast(`A message carries at most ${ATTACHMENT_LIMITS.perMessage} images or files.`, { kind: 'info' });
    return;
  }
  const chip = h('div', 'attachment-chip');
  chip.dataset.testid = 'attachment-chip';
  const label = h('span', 'attachment-name', file.name || 'Pasted image');
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  bar.dataset.testid = 'upload-progress';
  bar.setAttribute('aria-label', `Uploading ${file.name || 'image'}`);
  chip.append(label, bar);
  tray().hidden = false;
  tray().append(chip);
  uploading++;
  onChange();
  try {
    const [granted, size] = await Promise.all([
      state.chat.requestUpload(type, file.size, isFile ? file.name : undefined),
      isFile ? {} : dimensionsOf(file),
    ]);
    await post(granted, file, (share) => {
      bar.value = share;
    });
    bar.value = 1;
    const attachment = isFile
      ? { key: granted.key, contentType: type, size: file.size, name: file.name }
      : { key: granted.key, contentType: type, size: file.size, ...size };
    ready.push(attachment);
    chip.dataset.state = 'ready';
    const remove = h('button', 'attachment-remove', '✕');
    remove.type = 'button';
    remove.setAttribute('aria-label', `Remove ${file.name || 'image'}`);
    remove.addEventListener('click', () => {
      ready.splice(ready.indexOf(attachment), 1);
      chip.remove();
      tray().hidden = tray().childElementCount === 0;
      onChange();
    });
    chip.append(remove);
  } catch (error) {
    chip.remove();
    tray().hidden = tray().childElementCount === 0;
    toast(error.message, { title: isFile ? 'File not attached' : 'Image not attached' });
  } finally {
    uploading--;
    onChange();
  }
}

/** Presigned GETs by key and version (the one the message names), reused until shortly before they expire. */
const urls = new Map();

async function urlOf({ attachmentKey: key, attachmentVersion: versionId }) {
  const known = urls.get(`${key}?${versionId}`);
  if (known && known.expiresAt - Date.now() > 30_000) return known.url;
  const frame = await state.chat.attachmentUrl(key, versionId);
  urls.set(`${key}?${versionId}`, { url: frame.url, expiresAt: Date.parse(frame.expiresAt) });
  return frame.url;
}

/** Points a file chip's link at its presigned GET, noting when it expires. */
async function linkFile(link) {
  const url = await urlOf(link.dataset);
  link.href = url;
  link.dataset.expiresAt = String(
    urls.get(`${link.dataset.attachmentKey}?${link.dataset.attachmentVersion}`)?.expiresAt ?? 0,
  );
}

/**
 * The image of thumbnail `thumb` at its full size (as large as the window allows) in a modal dialog: Escape, the
 * close button or a click anywhere on it closes it, and the focus returns to the thumbnail.
 */
function openViewer(thumb) {
  const dialog = document.createElement('dialog');
  dialog.className = 'image-viewer';
  dialog.dataset.testid = 'image-viewer';
  dialog.setAttribute('aria-label', 'Image, full size');
  const img = document.createElement('img');
  img.className = 'image-viewer-img';
  img.dataset.testid = 'image-viewer-img';
  img.alt = thumb.alt;
  img.src = thumb.src;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'image-viewer-close';
  close.dataset.testid = 'image-viewer-close';
  close.textContent = '×';
  close.setAttribute('aria-label', 'Close the image');
  dialog.append(img, close);
  dialog.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    thumb.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

/** The 📎 picker and pasting images into the composer; `changed` is told when what can be sent changes. */
export function bindAttachments(changed) {
  onChange = changed;
  const picker = document.getElementById('attach-input');
  if (picker) picker.accept = ACCEPT;
  document.getElementById('attach-button')?.addEventListener('click', () => picker?.click());
  picker?.addEventListener('change', () => {
    for (const file of picker.files ?? []) void upload(file);
    picker.value = '';
  });
  ui.composerInput.addEventListener('paste', (ev) => {
    const files = [...(ev.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length === 0) return;
    ev.preventDefault();
    for (const file of files) void upload(file);
  });
  const pending = new WeakSet();
  new MutationObserver(() => {
    for (const img of ui.messageList.querySelectorAll('img[data-attachment-key]:not([src])')) {
      if (pending.has(img)) continue;
      pending.add(img);
      urlOf(img.dataset).then(
        (url) => {
          img.src = url;
          // A thumbnail opens full size (openViewer), by a click or from the keyboard.
          img.tabIndex = 0;
          img.setAttribute('role', 'button');
          img.title = 'Open full size';
        },
        () => {
          img.alt = 'Image unavailable';
        },
      );
    }
    // A file's chip (attachmentView.js fileChip) links to its presigned GET: the bucket serves it as a download.
    for (const link of ui.messageList.querySelectorAll('a[data-attachment-key]:not([href])')) {
      if (pending.has(link)) continue;
      pending.add(link);
      linkFile(link).catch(() => {
        link.title = 'File unavailable';
      });
    }
  }).observe(ui.messageList, { childList: true, subtree: true });
  // A file's link whose URL is about to expire asks for a new one first, then follows it.
  ui.messageList.addEventListener('click', (ev) => {
    const link = ev.target instanceof Element ? ev.target.closest('a[data-attachment-key]') : null;
    if (!link?.href || Number(link.dataset.expiresAt) - Date.now() > 30_000) return;
    ev.preventDefault();
    urls.delete(`${link.dataset.attachmentKey}?${link.dataset.attachmentVersion}`);
    linkFile(link).then(() => link.click());
  });
  ui.messageList.addEventListener('click', (ev) => {
    const img = ev.target;
    if (img instanceof HTMLImageElement && img.dataset.attachmentKey && img.src) openViewer(img);
  });
  ui.messageList.addEventListener('keydown', (ev) => {
    const img = ev.target;
    if ((ev.key !== 'Enter' && ev.key !== ' ') || !(img instanceof HTMLImageElement)) return;
    if (!img.dataset.attachmentKey || !img.src) return;
    ev.preventDefault();
    openViewer(img);
  });
  // An expired URL fails to load: ask for a new one once.
  ui.messageList.addEventListener(
    'error',
    (ev) => {
      const img = ev.target;
      if (!(img instanceof HTMLImageElement) || !img.dataset.attachmentKey || img.dataset.retried) return;
      img.dataset.retried = 'true';
      urls.delete(`${img.dataset.attachmentKey}?${img.dataset.attachmentVersion}`);
      urlOf(img.dataset).then((url) => {
        img.src = url;
      });
    },
    true,
  );
}
