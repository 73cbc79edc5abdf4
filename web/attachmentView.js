// The images and files a message carries, as its row draws them: thumbnails and file chips without sources yet;
// attachments.js fills each with a presigned GET once it is on the page.

import { h } from './ui.js';

/** A size as people read it: bytes, KB or MB (powers of 1,024). */
function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A file a message carries, as a chip: an icon, its name and size, itself the link that downloads it (its href, a
 * presigned GET, set by attachments.js; the bucket serves a file as `attachment`, never as a page).
 */
function fileChip(a) {
  const link = h('a', 'msg-file');
  link.dataset.testid = 'file-chip';
  link.dataset.attachmentKey = a.key;
  link.dataset.attachmentVersion = a.versionId ?? '';
  link.rel = 'noopener noreferrer';
  const name = typeof a.name === 'string' ? a.name : 'file';
  link.download = name;
  const icon = h('span', 'msg-file-icon', a.contentType === 'application/zip' ? '🗜️' : '📄');
  icon.setAttribute('aria-hidden', 'true');
  const label = h('span', 'msg-file-name', name);
  label.dataset.testid = 'file-name';
  const size = h('span', 'msg-file-size', Number.isInteger(a.size) ? humanSize(a.size) : '');
  size.dataset.testid = 'file-size';
  link.append(icon, label, size);
  link.setAttribute('aria-label', `Download ${name}, ${size.textContent}`);
  return link;
}

/**
 * The thumbnails of a message's images, without sources yet: attachments.js watches the list and fills each with
 * a presigned GET once it is on the page.
 */
export function thumbnails(attachments) {
  const box = h('div', 'msg-attachments');
  for (const a of attachments) {
    if (typeof a?.key !== 'string') continue;
    if (typeof a.contentType !== 'string' || !a.contentType.startsWith('image/')) {
      box.append(fileChip(a));
      continue;
    }
    const img = document.createElement('img');
    img.className = 'msg-thumb';
    img.dataset.testid = 'attachment-thumb';
    img.dataset.attachmentKey = a.key;
    img.dataset.attachmentVersion = a.versionId ?? '';
    img.alt = 'Image';
    img.decoding = 'async';
    if (Number.isInteger(a.width) && Number.isInteger(a.height)) {
      img.width = Math.min(240, a.width);
      img.height = Math.round((img.width * a.height) / a.width);
    }
    box.append(img);
  }
  return box;
}
