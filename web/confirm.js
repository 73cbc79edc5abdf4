// A question before an action that cannot be taken back (an owner's Remove): a modal dialog that says what the
// action does and waits for a choice. Escape, Cancel or a click on the backdrop answer no. Text goes in with
// textContent.
import { h } from './ui.js';

/** Resolves true when the person picks `confirm`, false otherwise. */
export function confirmAction({ title, text, confirm }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', 'dialog');
    dialog.dataset.testid = 'confirm-dialog';
    const form = h('form', 'dialog-form');
    form.method = 'dialog';
    const heading = h('h2', '', title);
    heading.id = 'confirm-title';
    dialog.setAttribute('aria-labelledby', heading.id);
    const body = h('p', 'dialog-text', text);
    body.dataset.testid = 'confirm-text';
    const actions = h('div', 'dialog-actions');
    const cancel = h('button', 'button button-ghost', 'Cancel');
    cancel.type = 'button';
    cancel.dataset.testid = 'confirm-cancel';
    const ok = h('button', 'button button-primary', confirm);
    ok.type = 'submit';
    ok.value = 'yes';
    ok.dataset.testid = 'confirm-ok';
    actions.append(cancel, ok);
    form.append(heading, body, actions);
    dialog.append(form);
    cancel.addEventListener('click', () => dialog.close(''));
    dialog.addEventListener('click', (ev) => {
      if (ev.target === dialog) dialog.close('');
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'yes');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
