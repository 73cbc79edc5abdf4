// Blocking and reporting in the web chat. "Block" on someone else's message blocks its author in every room: their
// messages are simply hidden (no placeholder: a blocked person's words do not take space), in every room once that
// room's hidden keys are read (on entering it); the header's 🚫 button lists whom you block, each with Unblock.
// "Report" asks why and sends the report to the room's owner, its moderators and the operators; an owner's page
// shows each report of its rooms as it arrives, and the header's "Reports (N)" lists the shown room's (reports.js).
// The block list is kept by the server (client.safety). All text goes in with textContent.

import { openRoom } from './myrooms.js';
import { roomWords } from './roomWords.js';
import { state } from './state.js';
import { ERROR_TITLES, h, toast, ui } from './ui.js';

/** Whether a message is from someone this user blocks. */
export const isBlocked = (m) => state.chat?.safety.isHidden(m) === true;

/** Asks why a message is reported: resolves the reason, or undefined on Cancel. */
function askReason(m) {
  return new Promise((resolve) => {
    const dialog = h('dialog', 'dialog');
    dialog.dataset.testid = 'report-dialog';
    const form = h('form', 'dialog-form');
    form.method = 'dialog';
    const heading = h('h2', '', `Report ${m.username}'s message`);
    heading.id = 'report-title';
    dialog.setAttribute('aria-labelledby', heading.id);
    const hint = h(
      'p',
      'dialog-text',
      "The room's owner, its moderators and the operators see it with the message as it is now.",
    );
    const input = h('input', 'report-reason');
    input.dataset.testid = 'report-reason';
    input.maxLength = 500;
    input.required = true;
    input.placeholder = 'Why? (spam, harassment…)';
    input.setAttribute('aria-label', 'Why you report this message');
    const actions = h('div', 'dialog-actions');
    const cancel = h('button', 'button button-ghost', 'Cancel');
    cancel.type = 'button';
    const ok = h('button', 'button button-primary', 'Report');
    ok.type = 'submit';
    ok.value = 'yes';
    ok.dataset.testid = 'report-send';
    actions.append(cancel, ok);
    form.append(heading, hint, input, actions);
    dialog.append(form);
    cancel.addEventListener('click', () => dialog.close(''));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'yes' ? input.value.trim() : undefined);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

const failed = (what) => (err) =>
  toast(err.message, { title: ERROR_TITLES[err.code] || `Could not ${what}` });

export function blockAuthor(m) {
  state.chat?.safety
    .block(m.seq)
    .then(() =>
      toast(`You won't see ${m.username}'s messages or direct messages.`, { title: 'Blocked', kind: 'info' }),
    )
    .catch(failed('block'));
}

export async function reportMessage(m) {
  const reason = await askReason(m);
  if (!reason) return;
  state.chat?.safety
    .report(m.seq, reason)
    .then(() =>
      toast("The room's owner, its moderators and the operators have your report.", {
        title: 'Reported',
        kind: 'info',
      }),
    )
    .catch(failed('report'));
}

/** The header's 🚫 button and its panel of blocked people. */
function paintBlocked(chat) {
  const people = chat.safety.blocked();
  ui.blockedCount.textContent = String(people.length);
  ui.blockedButton.hidden = people.length === 0;
  if (people.length === 0) ui.blockedPanel.hidden = true;
  ui.blockedList.replaceChildren(
    ...people.map((person) => {
      const item = h('li', 'blocked-item');
      item.dataset.testid = 'blocked-person';
      const unblock = h('button', 'link-button', 'Unblock');
      unblock.type = 'button';
      unblock.dataset.testid = 'unblock';
      unblock.addEventListener('click', () =>
        chat.safety
          .unblock(person.blockId)
          .then(() => chat.safety.refresh())
          .catch(failed('unblock')),
      );
      item.append(h('span', 'blocked-name', person.username), unblock);
      return item;
    }),
  );
}

let headerBound = false;

/** Reads the hidden keys of each room entered, and shows an owner the reports of its rooms as they come. */
export function bindSafety(chat, repaint) {
  // The page's header is bound once; each new client (a sign-in again) binds its own events.
  if (!headerBound) {
    headerBound = true;
    ui.blockedButton.addEventListener('click', () => {
      ui.blockedPanel.hidden = !ui.blockedPanel.hidden;
      ui.blockedButton.setAttribute('aria-expanded', ui.blockedPanel.hidden ? 'false' : 'true');
    });
  }
  chat.safety.subscribe(() => {
    paintBlocked(chat);
    queueMicrotask(repaint);
  });
  chat.on('room', ({ roomId }) => {
    chat.safety.refresh(roomId).catch(() => undefined);
  });
  chat.on('reported', ({ report }) => {
    const notice = toast(
      `“${report.message.text}” by ${report.message.username}, reported by ${report.reportedBy}: ${report.reason}`,
      {
        title: `A message in ${roomWords(report.roomId)} was reported`,
        kind: 'info',
        timeout: 0,
        open: () => openRoom(report.roomId),
      },
    );
    notice.dataset.testid = 'report-notice';
  });
}
