// Drag and drop into the web chat: files dragged over the message column (the messages and the composer under them)
// show the column as a drop target, "Drop to attach"; dropped there, each file is attached as the 📎 button attaches
// it (attachments.js `upload`: the same checks of type, name, size and count, refused in the same words, then the same
// tray and progress), and waits to be sent with the next message. Only a drag that carries files is taken: dragged
// text or a link stays the composer's own. A file dropped anywhere else on the page is taken by nothing: the browser
// would otherwise open it in place of the chat, and the conversation on screen would be gone.

import { upload } from './attachments.js';
import { registerFeature } from './features.js';
import { h, ui } from './ui.js';

/** Whether the drag carries files (a file from the desktop), not text or a link from a page. */
const carriesFiles = (ev) => Array.from(ev.dataTransfer?.types ?? []).includes('Files');

function bindDropUpload() {
  const column = ui.main;
  const zone = h('div', 'drop-zone');
  zone.append(h('span', 'drop-zone-label', 'Drop to attach'));
  zone.dataset.testid = 'drop-zone';
  zone.hidden = true;
  column.append(zone);
  // The drag enters and leaves each element of the column in turn, an enter before the leave it follows: the column
  // is a target while more have been entered than left.
  let inside = 0;
  const target = (on) => {
    zone.hidden = !on;
  };
  column.addEventListener('dragenter', (ev) => {
    if (!carriesFiles(ev)) return;
    ev.preventDefault();
    inside++;
    target(true);
  });
  // A dragover whose default is prevented is what makes the element a drop target (HTML's drag-and-drop model).
  column.addEventListener('dragover', (ev) => {
    if (!carriesFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  column.addEventListener('dragleave', (ev) => {
    if (!carriesFiles(ev)) return;
    inside = Math.max(0, inside - 1);
    if (inside === 0) target(false);
  });
  column.addEventListener('drop', (ev) => {
    if (!carriesFiles(ev)) return;
    ev.preventDefault();
    inside = 0;
    target(false);
    for (const file of Array.from(ev.dataTransfer.files)) void upload(file);
  });
  // Outside the column a file is no drop: refused, so the browser does not open it in place of the chat.
  window.addEventListener('dragover', (ev) => {
    if (!carriesFiles(ev) || column.contains(ev.target)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'none';
  });
  window.addEventListener('drop', (ev) => {
    if (carriesFiles(ev)) ev.preventDefault();
  });
  // A drag from the page itself (an image of a message) that ends, dropped or given up, leaves no target shown.
  window.addEventListener('dragend', () => {
    inside = 0;
    target(false);
  });
}

registerFeature('dropUpload', { bind: bindDropUpload });
