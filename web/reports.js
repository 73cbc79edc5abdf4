// A room's open reports in the web chat, for its owner and moderators: the header's "Reports (N)" button opens the
// reports panel, newest first, each with who reported it, why, the message as reported and when, and Jump to message,
// Dismiss and Delete message. The list is the server's (client.safety.reports, read on entering the room, so it
// survives a reload); `reported` and `reportresolved` keep it current as any of the room's staff acts. The server
// decides who may list and resolve (FORBIDDEN otherwise). All text goes in with textContent.

import { registerFeature } from './features.js';
import { jumpTo } from './replies.js';
import { readable } from './roomWords.js';
import { state } from './state.js';
import { ERROR_TITLES, fullFmt, h, toast, toDate, ui } from './ui.js';

/** The shown room's open reports, newest first, and whether older ones are left unlisted. */
const open = { roomId: null, reports: [], more: false, staff: false };

const failed = (what) => (err) =>
  toast(readable(err.message), { title: ERROR_TITLES[err.code] || `Could not ${what}` });

function paint() {
  const shown = open.staff && open.roomId === state.shownRoom;
  ui.reportsButton.hidden = !shown;
  if (!shown) ui.reportsPanel.hidden = true;
  ui.reportsCount.textContent = `${open.reports.length}${open.more ? '+' : ''}`;
  ui.reportsButton.setAttribute('aria-expanded', ui.reportsPanel.hidden ? 'false' : 'true');
  ui.reportsEmpty.hidden = open.reports.length > 0;
  ui.reportsList.replaceChildren(...open.reports.map(reportItem));
}

function reportItem(report) {
  const item = h('li', 'report-item');
  item.dataset.testid = 'report-item';
  item.dataset.reportId = report.reportId;
  const when = toDate(report.reportedAt);
  const head = h(
    'p',
    'report-head',
    `${report.reportedBy} reported ${report.message.username}'s message${when ? `, ${fullFmt.format(when)}` : ''}`,
  );
  const reason = h('p', 'report-reason-text', `Why: ${report.reason}`);
  reason.dataset.testid = 'report-item-reason';
  const quote = h('blockquote', 'report-quote', report.message.text);
  quote.dataset.testid = 'report-item-text';
  const actions = h('div', 'report-actions');
  const button = (label, testid, run) => {
    const b = h('button', 'link-button', label);
    b.type = 'button';
    b.dataset.testid = testid;
    b.addEventListener('click', run);
    actions.append(b);
  };
  button('Jump to message', 'report-jump', () => {
    ui.reportsPanel.hidden = true;
    paint();
    void jumpTo(report.seq, { missing: 'The reported message is no longer kept (or is deleted).' });
  });
  button('Dismiss', 'report-dismiss', () => resolve(report, 'dismissed'));
  button('Delete message', 'report-delete', () => deleteAndResolve(report));
  item.append(head, reason, quote, actions);
  return item;
}

function resolve(report, outcome) {
  return state.chat.safety
    .resolve(report.reportId, outcome, report.roomId)
    .then((f) => forget(f.roomId, f.reportId))
    .catch(failed('resolve the report'));
}

/** The moderator's delete (deletemessage), then the report closed as `deleted`; a message gone already is fine. */
function deleteAndResolve(report) {
  state.chat.messages
    .delete(report.seq)
    .catch((err) => {
      if (err.code !== 'MESSAGE_DELETED' && err.code !== 'MESSAGE_NOT_FOUND') throw err;
    })
    .then(() => resolve(report, 'deleted'), failed('delete the message'));
}

function forget(roomId, reportId) {
  if (roomId !== open.roomId) return;
  open.reports = open.reports.filter((r) => r.reportId !== reportId);
  paint();
}

/** Reads the shown room's open reports when this user is its owner or a moderator; hides the button otherwise. */
function load(chat, roomId, role) {
  open.roomId = roomId;
  open.staff = role === 'owner' || role === 'moderator';
  open.reports = [];
  open.more = false;
  paint();
  if (!open.staff) return;
  chat.safety
    .reports(roomId)
    .then(({ reports, next }) => {
      if (open.roomId !== roomId) return;
      open.reports = reports;
      open.more = next !== undefined;
      paint();
    })
    .catch(() => undefined);
}

let headerBound = false;

/** The header's button, bound once; each new client's reports, read on entering a room and kept current. */
function bindReports(chat) {
  if (!headerBound) {
    headerBound = true;
    ui.reportsButton.addEventListener('click', () => {
      ui.reportsPanel.hidden = !ui.reportsPanel.hidden;
      paint();
    });
  }
  chat.on('room', ({ roomId, moderation }) => load(chat, roomId, moderation?.role));
  // Made a moderator or a member again while in the room.
  chat.on('moderation', (f) => {
    if (f.type === 'rolechanged' && f.roomId === open.roomId && f.username === state.username)
      load(chat, f.roomId, f.role);
  });
  chat.on('reported', ({ report }) => {
    if (report.roomId !== open.roomId || !open.staff) return;
    if (open.reports.some((r) => r.reportId === report.reportId)) return;
    open.reports = [report, ...open.reports];
    paint();
  });
  chat.on('reportresolved', (f) => forget(f.roomId, f.reportId));
}

registerFeature('reports', { watch: bindReports });
